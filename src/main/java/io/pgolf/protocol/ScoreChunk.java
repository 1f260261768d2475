package io.pgolf.protocol;

import java.util.Objects;

/** Asks a TTT evaluator to score every window of {@code chunk} with its weights as they are. */
public record ScoreChunk(String evaluationId, int chunk) implements TttRequest {
    public ScoreChunk {
        Objects.requireNonNull(evaluationId, "evaluationId");
        if (chunk < 0) {
            throw new IllegalArgumentException("chunk must not be negative, got " + chunk);
        }
    }
}
