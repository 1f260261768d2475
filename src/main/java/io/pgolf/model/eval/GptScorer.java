package io.pgolf.model.eval;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Tensor;
import io.pgolf.model.Gpt;

/** Scores with a model's current weights and depth-loop setting, no gradients. */
public final class GptScorer implements TokenScorer {
    private final Gpt model;

    public GptScorer(Gpt model) {
        this.model = model;
    }

    @Override
    public float[] tokenLosses(int[] inputs, int[] targets, int batch, int seqLen) {
        Backend backend = model.parameters().backend();
        try (Tensor ids = backend.tensors().uploadInts(inputs, inputs.length);
             Tensor next = backend.tensors().uploadInts(targets, targets.length)) {
            return model.tokenLosses(ids, next, batch, seqLen);
        }
    }
}
