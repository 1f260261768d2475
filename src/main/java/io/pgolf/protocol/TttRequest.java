package io.pgolf.protocol;

/** What a TTT evaluator is asked to do: score a chunk, or train on a chunk it has scored. */
public sealed interface TttRequest extends PipelineMessage permits ScoreChunk, TrainOnChunk {
    /** The evaluation the request is meant for ({@link TttStarted#evaluationId()}). */
    String evaluationId();

    int chunk();
}
