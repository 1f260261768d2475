package io.pgolf.protocol;

/**
 * Every message exchanged between pgolf's actors; each one is an immutable record registered with Kryo.
 *
 * <p>Sealed so that the set of wire messages is known at compile time: a new message joins {@code permits} and takes
 * a fixed id in {@link WireRegistry}; a test checks that no permitted message lacks one.
 */
public sealed interface PipelineMessage permits TokenizeBatch, TokenizedBatch, BatchDemand, TrainBatch, TrainerEvent,
        ArtifactEvent, TttRequest, TttEvent, PrequantTttTrained, Evaluated, StageFinished, RunStarted, DataPrepared {
}
