package io.pgolf.model;

import io.pgolf.gpu.Tensor;

/**
 * Sees the input of every linear layer x @ weight^T of a forward pass, as the reference's forward hooks do for
 * GPTQ's Hessians. The tied output head is a linear layer of {@code tok_emb.weight}, so its input (the final norm's
 * output) is reported under that parameter. A layer the depth loop runs several times is reported each time.
 */
@FunctionalInterface
public interface LinearInputObserver {
    /**
     * Called before the layer runs. {@code input} is [N, in] in the backend's activation type and is valid only
     * during the call.
     */
    void linearInput(Parameter weight, Tensor input);
}
