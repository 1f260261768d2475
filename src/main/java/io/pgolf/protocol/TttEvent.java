package io.pgolf.protocol;

/** What a TTT evaluation reports: its start, each chunk scored or trained on, each rejected request, its end. */
public sealed interface TttEvent extends PipelineMessage
        permits TttStarted, ChunkScored, ChunkTrained, Rejected, TttFinished {
    String evaluationId();
}
