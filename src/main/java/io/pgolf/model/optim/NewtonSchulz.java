package io.pgolf.model.optim;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Muon's approximate orthogonalization, the reference's {@code zeropower_via_newtonschulz5}: X = G / (||G||_F +
 * 1e-7), worked on in its wide orientation (transposed when G has more rows than columns), then per step
 * A = X X^T, B = b A + (c A) A, X = a X + B X with (a, b, c) = (3.4445, -4.7750, 2.0315).
 *
 * <p>The reference runs this in bfloat16, operation by operation, and the result depends on that: five steps
 * amplify rounding differences to several percent of the output. So every intermediate is rounded to bfloat16
 * exactly where torch's eager bf16 tensors round it; work tensors are in the backend's activation type, where
 * the rounding is free on a BF16 backend and emulated on a float32 one.
 */
public final class NewtonSchulz implements AutoCloseable {
    static final float A = 3.4445f;
    static final float B = -4.7750f;
    static final float C = 2.0315f;
    static final float EPS = 1e-7f;

    private final Backend backend;
    private final int steps;
    private final Map<Shape, Workspace> workspaces = new HashMap<>();

    public NewtonSchulz(Backend backend, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("Newton-Schulz needs at least one step, got " + steps);
        }
        this.backend = backend;
        this.steps = steps;
    }

    /**
     * The orthogonalized g [rows, cols], bfloat16 values in the backend's activation type. The tensor belongs to
     * this object and holds the result until the next call for a matrix of g's shape.
     */
    public Tensor orthogonalize(Tensor g) {
        requireMatrix(g, "input");
        int rows = g.dim(0);
        int cols = g.dim(1);
        boolean tall = rows > cols;
        Workspace w = workspaces.computeIfAbsent(new Shape(rows, cols), this::allocate);
        TensorOps ops = backend.tensors();
        OptimizerOps fused = backend.optimizer();

        // X = bf16(G) / bf16(bf16(||X||) + eps), the norm taken of the rounded X and kept on the device.
        fused.normalizeBfloat16(g, tall ? w.tall : w.x, EPS);
        if (tall) {
            ops.transpose(w.tall, w.x);
        }

        for (int step = 0; step < steps; step++) {
            // A = X X^T
            ops.gemm(false, true, 1f, w.x, w.x, 0f, w.a);
            ops.roundToBfloat16(w.a);
            // B = b A + (c A) A, each product and the sum rounded as separate bf16 tensors
            fused.roundedScaleAdd(C, w.a, null, w.scratch);
            ops.gemm(false, false, 1f, w.scratch, w.a, 0f, w.b);
            ops.roundToBfloat16(w.b);
            fused.roundedScaleAdd(B, w.a, w.b, w.b);
            // X = a X + B X
            ops.gemm(false, false, 1f, w.b, w.x, 0f, w.y);
            ops.roundToBfloat16(w.y);
            fused.roundedScaleAdd(A, w.x, w.y, w.x);
        }

        if (tall) {
            ops.transpose(w.x, w.tall);
            return w.tall;
        }
        return w.x;
    }

    private static void requireMatrix(Tensor t, String role) {
        if (t.rank() != 2) {
            throw new IllegalArgumentException("Newton-Schulz " + role + " must be a matrix, got " + t.describe());
        }
    }

    private record Shape(int rows, int cols) {
    }

    /**
     * Buffers for one matrix shape, reused across steps. With m = min(rows, cols) and n = max(rows, cols): x and
     * y [m, n], a, b and scratch [m, m]; tall [rows, cols], the input and the result in their own orientation, only
     * for tall matrices (null otherwise).
     */
    private record Workspace(Tensor x, Tensor y, Tensor a, Tensor b, Tensor scratch, Tensor tall) {
        void close() {
            for (Tensor t : List.of(x, y, a, b, scratch)) {
                t.close();
            }
            if (tall != null) {
                tall.close();
            }
        }
    }

    private Workspace allocate(Shape s) {
        TensorOps ops = backend.tensors();
        DType type = backend.activationType();
        int m = Math.min(s.rows, s.cols);
        int n = Math.max(s.rows, s.cols);
        Tensor tall = s.rows > s.cols ? ops.zeros(type, s.rows, s.cols) : null;
        return new Workspace(ops.zeros(type, m, n), ops.zeros(type, m, n), ops.zeros(type, m, m), ops.zeros(type, m, m),
                ops.zeros(type, m, m), tall);
    }

    @Override
    public void close() {
        workspaces.values().forEach(Workspace::close);
        workspaces.clear();
    }
}
