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
     * The epsilon of rms_norm: float32's machine epsilon (2^-23) whatever the activation type, because the
     * reference's {@code F.rms_norm(x, (d,))} computes bf16 inputs in float32 and takes that type's epsilon
     * (STACK §3's "2^-7" is wrong; checked against the record's code on a GPU).
     */
    default float normEpsilon() {
        return Math.ulp(1.0f);
    }

    /** Waits until every operation queued so far has finished; a backend that computes synchronously returns at once. */
    default void synchronize() {
    }

    @Override
    void close();
}
