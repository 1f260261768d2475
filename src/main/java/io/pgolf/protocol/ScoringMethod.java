package io.pgolf.protocol;

/**
 * How a scorer turns a window into token losses, as far as the evaluation rules care: whether its attention is
 * causal (a position sees only itself and earlier inputs) and over how many classes its softmax normalizes the
 * logits (the whole vocabulary for a legal score; 0 for scores that are not normalized at all).
 */
public record ScoringMethod(boolean causalAttention, int softmaxClasses) {
    public ScoringMethod {
        if (softmaxClasses < 0) {
            throw new IllegalArgumentException("softmaxClasses must not be negative, got " + softmaxClasses);
        }
    }
}
