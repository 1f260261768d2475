package io.pgolf.model.eval;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Tensor;
import io.pgolf.model.Gpt;
import io.pgolf.protocol.ScoringMethod;

/** Scores with a model's current weights and depth-loop setting, no gradients. */
public final class GptScorer implements TokenScorer {
    private final Gpt model;

    public GptScorer(Gpt model) {
        this.model = model;
    }

    /**
     * What the evaluation rules ask of a score: Gpt's attention is causal (a query sees keys at or before its own
     * position, so the loss of a target depends only on the inputs before it) and its loss is the cross-entropy of a
     * softmax over all vocabulary logits. GptScorerTest checks both on a model.
     */
    public ScoringMethod scoringMethod() {
        return new ScoringMethod(true, model.layout().vocabSize());
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
