package io.pgolf.protocol;

/**
 * A plain evaluation of the validation tokens (STACK §6: non-overlapping windows) after {@code step} steps, with
 * the live weights or, once training is over, with their exponential moving average.
 *
 * @param valLoss mean cross-entropy in nats per scored token
 * @param valBpb  bits per byte: (sum of nats / ln 2) / bytes
 */
public record ValidationReport(long step, boolean emaWeights, double valLoss, double valBpb, long tokens, double bytes, double seconds)
        implements TrainerEvent {
    public ValidationReport {
        if (tokens <= 0 || bytes <= 0) {
            throw new IllegalArgumentException("a validation report needs scored tokens and bytes, got " + tokens
                    + " tokens, " + bytes + " bytes");
        }
    }
}
