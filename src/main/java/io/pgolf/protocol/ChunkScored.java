package io.pgolf.protocol;

import java.util.List;
import java.util.Objects;

/**
 * The receipt for one scored TTT chunk: every window the chunk scored (in order), the scorer's method, the weights
 * version it scored with, and the chunk's partial sums (nats, scored tokens, their bytes). It is the only thing a
 * {@link TrainOnChunk} can be built from, and the evaluator that issued it accepts a training request only with this
 * very receipt.
 *
 * @param lastChunk whether this is the evaluation's last chunk, which is never trained on
 */
public record ChunkScored(String evaluationId, int chunk, boolean lastChunk, long weightsVersion,
                          ScoringMethod method, List<ScoredWindow> windows, double nats, long tokens, long bytes)
        implements TttEvent {
    public ChunkScored {
        Objects.requireNonNull(evaluationId, "evaluationId");
        Objects.requireNonNull(method, "method");
        windows = List.copyOf(windows);
        if (chunk < 0 || weightsVersion < 0 || tokens < 0 || bytes < 0) {
            throw new IllegalArgumentException("chunk, weights version, tokens and bytes must not be negative, got "
                    + chunk + ", " + weightsVersion + ", " + tokens + ", " + bytes);
        }
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("the receipt of chunk " + chunk + " lists no window");
        }
    }
}
