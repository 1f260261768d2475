package io.pgolf.gpu;

/**
 * A compute backend: where tensors live and the operations the model, its optimizers and the evaluators are
 * written against. The CPU reference and the CUDA backend implement the same three groups of operations; the
 * model exists once, in {@code io.pgolf.model}, and never looks below this interface.
 */
public interface Backend extends AutoCloseable {
    /** A short name for logs ("cpu x2", "cuda H100"). */
    String name();

    /** Memory, copies, GEMM and elementwise arithmetic. */
    TensorOps tensors();

    /** The model's fused layer operations, forward and backward. */
    LayerOps layers();

    /** Optimizer updates. */
    OptimizerOps optimizer();

    /** The type activations are computed in (F32 on the CPU, BF16 on the GPU). */
    DType activationType();

    /**
     * The epsilon of rms_norm: the machine epsilon of the activation type, as the reference's
     * {@code F.rms_norm(x, (d,))} uses (2^-23 in float32, 2^-7 in bfloat16).
     */
    default float normEpsilon() {
        return switch (activationType()) {
            case F32 -> Math.ulp(1.0f);
            case BF16 -> 0x1p-7f;
            case I32 -> throw new IllegalStateException("activations cannot be integers");
        };
    }

    @Override
    void close();
}
