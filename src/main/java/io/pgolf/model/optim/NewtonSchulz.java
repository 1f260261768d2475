package io.pgolf.model.optim;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Bfloat16;
import io.pgolf.gpu.DType;
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

    /** out = the orthogonalized g; both are [rows, cols] matrices, out may be g. Values of out are bfloat16. */
    public void orthogonalize(Tensor g, Tensor out) {
        requireMatrix(g, "input");
        requireMatrix(out, "output");
        int rows = g.dim(0);
        int cols = g.dim(1);
        if (out.dim(0) != rows || out.dim(1) != cols) {
            throw new IllegalArgumentException("Newton-Schulz output " + out.describe() + " differs from input " + g.describe());
        }
        boolean tall = rows > cols;
        Workspace w = workspaces.computeIfAbsent(new Shape(rows, cols), this::allocate);
        TensorOps ops = backend.tensors();

        // X = bf16(G); X /= bf16(bf16(||X||) + eps): the norm is taken of the already rounded X.
        Tensor input = tall ? w.tallInput : w.x;
        ops.copy(g, input);
        ops.roundToBfloat16(input);
        float norm = Bfloat16.round((float) Math.sqrt(ops.sumOfSquares(input)));
        float divisor = Bfloat16.round(norm + EPS);
        ops.scale(input, 1f / divisor);
        ops.roundToBfloat16(input);
        if (tall) {
            ops.transpose(w.tallInput, w.x);
        }

        for (int step = 0; step < steps; step++) {
            // A = X X^T
            ops.gemm(false, true, 1f, w.x, w.x, 0f, w.a);
            ops.roundToBfloat16(w.a);
            // B = b A + (c A) A, each product and the sum rounded as separate bf16 tensors
            ops.copy(w.a, w.scratch);
            ops.scale(w.scratch, C);
            ops.roundToBfloat16(w.scratch);
            ops.gemm(false, false, 1f, w.scratch, w.a, 0f, w.b);
            ops.roundToBfloat16(w.b);
            ops.copy(w.a, w.scratch);
            ops.scale(w.scratch, B);
            ops.roundToBfloat16(w.scratch);
            ops.add(w.scratch, w.b, w.b);
            ops.roundToBfloat16(w.b);
            // X = a X + B X
            ops.gemm(false, false, 1f, w.b, w.x, 0f, w.y);
            ops.roundToBfloat16(w.y);
            ops.scale(w.x, A);
            ops.roundToBfloat16(w.x);
            ops.add(w.x, w.y, w.x);
            ops.roundToBfloat16(w.x);
        }

        if (tall) {
            ops.transpose(w.x, out);
        } else {
            ops.copy(w.x, out);
        }
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
     * y [m, n], a, b and scratch [m, m]; tallInput [rows, cols] only for tall matrices (null otherwise).
     */
    private record Workspace(Tensor x, Tensor y, Tensor a, Tensor b, Tensor scratch, Tensor tallInput) {
        void close() {
            for (Tensor t : List.of(x, y, a, b, scratch)) {
                t.close();
            }
            if (tallInput != null) {
                tallInput.close();
            }
        }
    }

    private Workspace allocate(Shape s) {
        TensorOps ops = backend.tensors();
        DType type = backend.activationType();
        int m = Math.min(s.rows, s.cols);
        int n = Math.max(s.rows, s.cols);
        Tensor tallInput = s.rows > s.cols ? ops.zeros(type, s.rows, s.cols) : null;
        return new Workspace(ops.zeros(type, m, n), ops.zeros(type, m, n), ops.zeros(type, m, m), ops.zeros(type, m, m),
                ops.zeros(type, m, m), tallInput);
    }

    @Override
    public void close() {
        workspaces.values().forEach(Workspace::close);
        workspaces.clear();
    }
}
