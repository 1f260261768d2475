package io.pgolf.gpu.parity;

/** How a parity case stores one of its tensors: as the backend stores activations, or always as float32. */
public enum Storage {
    /** The backend's {@link io.pgolf.gpu.Backend#activationType()}: what the model's Graph values are. */
    ACTIVATION,
    /** Parameters, their gradients, optimizer state, statistics (inverse rms, log-sum-exp, losses). */
    FLOAT32;

    /** Gradients of activations: in the activation type, as {@code Var.grad()} allocates them. */
    public static final Storage GRADIENT = ACTIVATION;
}
