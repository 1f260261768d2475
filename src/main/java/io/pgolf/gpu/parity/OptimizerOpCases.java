package io.pgolf.gpu.parity;

import io.pgolf.gpu.Tensor;

import java.util.Arrays;
import java.util.List;

import static io.pgolf.gpu.parity.TensorOpCases.dims;

/**
 * Every {@link io.pgolf.gpu.OptimizerOps} update as parity cases on a matrix of the MLP's size, float32 throughout;
 * each updated tensor (parameter and state) is a result.
 */
final class OptimizerOpCases {
    private static final float LR = 0.01f;
    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.95f;
    private static final float ADAM_EPS = 1e-8f;
    private static final float WEIGHT_DECAY = 0.1f;
    private static final int ADAM_STEP = 3;
    private static final float ROW_EPS = 1e-7f;
    private static final float MOMENTUM = 0.9f;

    private final ParityScale scale;
    private final int rows;
    private final int cols;

    private OptimizerOpCases(ParityScale scale) {
        this.scale = scale;
        this.rows = scale.width();
        this.cols = scale.mlpHidden();
    }

    static List<OpCase> of(ParityScale scale) {
        OptimizerOpCases c = new OptimizerOpCases(scale);
        return List.of(c.adamw(), c.normalizeRows(), c.sgdMomentum(true, false), c.sgdMomentum(false, true));
    }

    private OpCase op(String op, String variant, OpCase.Body body) {
        return new OpCase(scale.name(), op, variant, dims(rows, cols), body);
    }

    private OpCase adamw() {
        int n = rows * cols;
        return op("adamw", "step " + ADAM_STEP, (side, in) -> {
            Tensor param = side.result("param", side.float32(in.gaussian(n), rows, cols));
            Tensor grad = side.float32(in.gaussian(n), rows, cols);
            Tensor expAvg = side.result("expAvg", side.float32(in.gaussian(n, 0.1), rows, cols));
            float[] root = in.gaussian(n, 0.1);
            float[] squares = new float[n];
            for (int i = 0; i < n; i++) {
                squares[i] = root[i] * root[i];
            }
            Tensor expAvgSq = side.result("expAvgSq", side.float32(squares, rows, cols));
            side.optimizer().adamw(param, grad, expAvg, expAvgSq, LR, BETA1, BETA2, ADAM_EPS, WEIGHT_DECAY, ADAM_STEP);
        });
    }

    /** Row 0 is all zeros: it must stay zero (divided by eps), not become NaN. */
    private OpCase normalizeRows() {
        return op("normalizeRows", "", (side, in) -> {
            float[] values = in.gaussian(rows * cols);
            Arrays.fill(values, 0, cols, 0f);
            side.optimizer().normalizeRows(side.result("x", side.float32(values, rows, cols)), ROW_EPS);
        });
    }

    private OpCase sgdMomentum(boolean firstStep, boolean nesterov) {
        int n = rows * cols;
        return op("sgdMomentum", (firstStep ? "first" : "later") + (nesterov ? " nesterov" : ""), (side, in) -> {
            Tensor param = side.result("param", side.float32(in.gaussian(n), rows, cols));
            Tensor grad = side.float32(in.gaussian(n), rows, cols);
            Tensor buf = side.result("buf", side.float32(in.gaussian(n), rows, cols));
            side.optimizer().sgdMomentum(param, grad, buf, LR, MOMENTUM, nesterov, firstStep);
        });
    }
}
