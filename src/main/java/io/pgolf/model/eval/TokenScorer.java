package io.pgolf.model.eval;

/**
 * Scores sequences with a model, without gradients: the loss in nats of every target given the inputs before it.
 * inputs and targets hold {@code batch} sequences of {@code seqLen} tokens each, end to end.
 */
@FunctionalInterface
public interface TokenScorer {
    float[] tokenLosses(int[] inputs, int[] targets, int batch, int seqLen);
}
