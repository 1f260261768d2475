package io.pgolf.protocol;

import java.util.Objects;

/**
 * A TTT evaluation's last word: the score over every chunk (mean loss in nats and bits per byte over {@code tokens}
 * scored tokens standing for {@code bytes} bytes), how many chunks were scored and trained on, how long it took, and
 * whether it may stand as a record.
 */
public record TttFinished(String evaluationId, RunKind runKind, double valLoss, double valBpb, long tokens,
                          long bytes, int chunksScored, int chunksTrained, double seconds) implements TttEvent {
    public TttFinished {
        Objects.requireNonNull(evaluationId, "evaluationId");
        Objects.requireNonNull(runKind, "runKind");
    }
}
