package io.pgolf.model.eval;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Tensor;
import io.pgolf.model.Gpt;
import io.pgolf.protocol.Tokens;

/** The training pass both TTT variants take over validation tokens: contiguous sequences, a fresh gradient. */
final class TokenSpanTraining {
    private TokenSpanTraining() {
    }

    /**
     * Zeroes the gradients, then forward and backward on {@code batch} sequences of {@code seqLen} tokens laid end to
     * end from {@code startToken} (each predicting the token after it); returns the mean loss, the gradients hold its
     * gradient.
     */
    static double forwardBackward(Gpt model, Tokens tokens, int startToken, int batch, int seqLen) {
        int n = batch * seqLen;
        int[] inputs = new int[n];
        int[] targets = new int[n];
        for (int i = 0; i < n; i++) {
            inputs[i] = tokens.get(startToken + i);
            targets[i] = tokens.get(startToken + i + 1);
        }
        Backend backend = model.parameters().backend();
        model.parameters().zeroGradients();
        try (Tensor ids = backend.tensors().uploadInts(inputs, n);
             Tensor next = backend.tensors().uploadInts(targets, n)) {
            return model.forwardBackward(ids, next, batch, seqLen, 1f);
        }
    }
}
