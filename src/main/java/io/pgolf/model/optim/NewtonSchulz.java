package io.pgolf.model.optim;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;

/**
 * Muon's approximate orthogonalization, the reference's {@code zeropower_via_newtonschulz5}, of a stack of matrices of
 * one shape at once (each operation one call for the whole stack): per matrix G, X = G / (||G||_F + 1e-7) worked on in
 * its wide orientation, then per step A = X X^T, B = b A + (c A) A, X = a X + B X with (a, b, c) = (3.4445, -4.7750,
 * 2.0315). The reference transposes a tall G; a tall stack here stays as it is, T = X^T, and its products take the
 * transposes instead: A = T^T T and T = a T + T B^T, whose elements are the very sums of products of the wide
 * orientation's (B^T, not B: the computed B need not be exactly symmetric).
 *
 * <p>The reference runs this in bfloat16, operation by operation, and the result depends on that: five steps
 * amplify rounding differences to several percent of the output. So every intermediate is rounded to bfloat16
 * exactly where torch's eager bf16 tensors round it; work tensors are in the backend's activation type, where
 * the rounding is free on a BF16 backend and emulated on a float32 one.
 */
public final class NewtonSchulz {
    static final float A = 3.4445f;
    static final float B = -4.7750f;
    static final float C = 2.0315f;
    static final float EPS = 1e-7f;

    private final Backend backend;
    private final int steps;

    public NewtonSchulz(Backend backend, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("Newton-Schulz needs at least one step, got " + steps);
        }
        this.backend = backend;
        this.steps = steps;
    }

    /**
     * Orthogonalizes every matrix of the stack x [count, rows, cols] in place: on return x holds the results,
     * bfloat16 values. x is best in the backend's activation type. The work tensors (a second stack like x and three
     * stacks [count, m, m], m = min(rows, cols)) are taken from the backend for the call and given back at its end,
     * so that stacks of the same sizes reuse one caching allocator's memory.
     */
    public void orthogonalize(Tensor x) {
        if (x.rank() != 3) {
            throw new IllegalArgumentException("Newton-Schulz takes a stack [count, rows, cols], got " + x.describe());
        }
        int count = x.dim(0);
        int rows = x.dim(1);
        int cols = x.dim(2);
        boolean tall = rows > cols;
        int m = Math.min(rows, cols);
        TensorOps ops = backend.tensors();
        OptimizerOps fused = backend.optimizer();
        DType type = backend.activationType();

        // X = bf16(G) / bf16(bf16(||X||) + eps) per matrix, the norm taken of the rounded X and kept on the device.
        fused.normalizeBfloat16(x, x, EPS);
        try (Tensor y = ops.empty(type, count, rows, cols); Tensor a = ops.empty(type, count, m, m);
             Tensor b = ops.empty(type, count, m, m); Tensor scratch = ops.empty(type, count, m, m)) {
            for (int step = 0; step < steps; step++) {
                // A = X X^T (of a tall stack T^T T)
                ops.batchedGemm(tall, !tall, 1f, x, x, 0f, a);
                ops.roundToBfloat16(a);
                // B = b A + (c A) A, each product and the sum rounded as separate bf16 tensors
                fused.roundedScaleAdd(C, a, null, scratch);
                ops.batchedGemm(false, false, 1f, scratch, a, 0f, b);
                ops.roundToBfloat16(b);
                fused.roundedScaleAdd(B, a, b, b);
                // X = a X + B X (of a tall stack T = a T + T B^T)
                if (tall) {
                    ops.batchedGemm(false, true, 1f, x, b, 0f, y);
                } else {
                    ops.batchedGemm(false, false, 1f, b, x, 0f, y);
                }
                ops.roundToBfloat16(y);
                fused.roundedScaleAdd(A, x, y, x);
            }
        }
    }
}
