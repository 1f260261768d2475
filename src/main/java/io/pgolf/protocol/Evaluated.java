package io.pgolf.protocol;

import java.util.Objects;

/**
 * An evaluation of the validation tokens without test-time training: how its windows were placed, its score (mean
 * loss in nats and bits per byte over {@code tokens} scored tokens standing for {@code bytes} bytes) and how long it
 * took.
 *
 * @param stride  tokens between window starts: seqLen for {@link EvaluationMethod#PLAIN}
 * @param windows windows scored
 */
public record Evaluated(EvaluationMethod method, int seqLen, int stride, long windows, double valLoss, double valBpb,
                        long tokens, long bytes, double seconds) implements PipelineMessage {
    public Evaluated {
        Objects.requireNonNull(method, "method");
    }
}
