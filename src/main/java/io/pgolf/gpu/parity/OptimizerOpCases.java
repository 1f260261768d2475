package io.pgolf.gpu.parity;

import io.pgolf.gpu.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static io.pgolf.gpu.parity.TensorOpCases.dims;

/**
 * Every {@link io.pgolf.gpu.OptimizerOps} update as parity cases on a matrix of the MLP's size, float32 unless the
 * operation works on bfloat16 values (Newton-Schulz's); each updated tensor (parameter and state) is a result. An
 * operation over a list of tensors gets {@link #LIST_SHAPES}'s list, its results named with the tensor's index.
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
    private static final float MAX_NORM = 1f;
    private static final double EMA_DECAY = 0.997;
    private static final float NEWTON_SCHULZ_EPS = 1e-7f;
    private static final float NEWTON_SCHULZ_A = 3.4445f;
    private static final float NEWTON_SCHULZ_B = -4.7750f;
    private static final float MUON_LR = 0.02f;

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
        return List.of(c.globalNorm(), c.clipToNorm(5f), c.clipToNorm(0.5f), c.adamw(), c.movingAverage(),
                c.normalizeRows(), c.nesterovMomentum(), c.normalizeBfloat16(), c.roundedScaleAdd(false, false),
                c.roundedScaleAdd(true, false), c.roundedScaleAdd(true, true), c.applyRoundedUpdate(),
                c.sgdMomentum(true, false), c.sgdMomentum(false, true));
    }

    /**
     * The tensors of a list operation: the matrix (several chunks of a GPU's multi-tensor launch, the last one
     * partial at most scales), a row, and three values (no vector width divides them).
     */
    private int[][] listShapes() {
        return new int[][] {{rows, cols}, {cols}, {3}};
    }

    private static int size(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** One float32 tensor of each list shape, drawn with standard deviation std; results named name[i] if given. */
    private List<Tensor> list(Side side, CaseInputs in, double std, String name) {
        List<Tensor> tensors = new ArrayList<>();
        int[][] shapes = listShapes();
        for (int i = 0; i < shapes.length; i++) {
            Tensor t = side.float32(in.gaussian(size(shapes[i]), std), shapes[i]);
            tensors.add(name == null ? t : side.result(name + "[" + i + "]", t));
        }
        return tensors;
    }

    private OpCase listOp(String op, String variant, OpCase.Body body) {
        int[][] shapes = listShapes();
        String shape = Arrays.stream(shapes).map(TensorOpCases::dims).collect(Collectors.joining(", "));
        return new OpCase(scale.name(), op, variant, shape, body);
    }

    private OpCase globalNorm() {
        return listOp("globalNorm", "", (side, in) -> side.optimizer().globalNorm(list(side, in, 1.0, null),
                side.output("norm", Storage.FLOAT32, 1)));
    }

    /** A given norm above MAX_NORM scales every tensor; one below it leaves them as they are. */
    private OpCase clipToNorm(float norm) {
        return listOp("clipToNorm", norm > MAX_NORM ? "clipped" : "below the limit", (side, in) -> {
            List<Tensor> tensors = list(side, in, 1.0, "t");
            side.optimizer().clipToNorm(tensors, side.float32(new float[] {norm}, 1), MAX_NORM);
        });
    }

    private OpCase adamw() {
        return listOp("adamw", "step " + ADAM_STEP, (side, in) -> {
            List<Tensor> params = list(side, in, 1.0, "param");
            List<Tensor> grads = list(side, in, 1.0, null);
            List<Tensor> expAvg = list(side, in, 0.1, "expAvg");
            List<Tensor> expAvgSq = new ArrayList<>();
            int[][] shapes = listShapes();
            for (int i = 0; i < shapes.length; i++) {
                float[] squares = in.gaussian(size(shapes[i]), 0.1);
                for (int j = 0; j < squares.length; j++) {
                    squares[j] *= squares[j];
                }
                expAvgSq.add(side.result("expAvgSq[" + i + "]", side.float32(squares, shapes[i])));
            }
            side.optimizer().adamw(params, grads, expAvg, expAvgSq, LR, BETA1, BETA2, ADAM_EPS, WEIGHT_DECAY,
                    ADAM_STEP);
        });
    }

    private OpCase movingAverage() {
        return listOp("movingAverage", "", (side, in) -> {
            List<Tensor> averages = list(side, in, 1.0, "averages");
            side.optimizer().movingAverage(averages, list(side, in, 1.0, null), EMA_DECAY);
        });
    }

    private OpCase op(String op, String variant, OpCase.Body body) {
        return new OpCase(scale.name(), op, variant, dims(rows, cols), body);
    }

    /** Row 0 is all zeros: it must stay zero (divided by eps), not become NaN. */
    private OpCase normalizeRows() {
        return op("normalizeRows", "", (side, in) -> {
            float[] values = in.gaussian(rows * cols);
            Arrays.fill(values, 0, cols, 0f);
            side.optimizer().normalizeRows(side.result("x", side.float32(values, rows, cols)), ROW_EPS);
        });
    }

    private OpCase nesterovMomentum() {
        int n = rows * cols;
        return op("nesterovMomentum", "", (side, in) -> {
            Tensor grad = side.float32(in.gaussian(n), rows, cols);
            Tensor buf = side.result("buf", side.float32(in.gaussian(n), rows, cols));
            side.optimizer().nesterovMomentum(grad, buf, side.output("update", Storage.FLOAT32, rows, cols),
                    MOMENTUM);
        });
    }

    /** Float32 values into the activation type, as Newton-Schulz starts from Muon's float32 update. */
    private OpCase normalizeBfloat16() {
        return op("normalizeBfloat16", "", (side, in) -> {
            Tensor src = side.float32(in.gaussian(rows * cols, 3.0), rows, cols);
            side.optimizer().normalizeBfloat16(src, side.output("dst", Storage.ACTIVATION, rows, cols),
                    NEWTON_SCHULZ_EPS);
        });
    }

    /** Activation-type operands as in Newton-Schulz: without y, with y, and with out aliasing y. */
    private OpCase roundedScaleAdd(boolean withY, boolean intoY) {
        int n = rows * cols;
        String variant = !withY ? "no y" : intoY ? "out=y" : "";
        return op("roundedScaleAdd", variant, (side, in) -> {
            Tensor x = side.activation(in.gaussian(n), rows, cols);
            Tensor y = withY ? side.activation(in.gaussian(n), rows, cols) : null;
            Tensor out = intoY ? side.result("out", y) : side.output("out", Storage.ACTIVATION, rows, cols);
            side.optimizer().roundedScaleAdd(withY ? NEWTON_SCHULZ_B : NEWTON_SCHULZ_A, x, y, out);
        });
    }

    /** Muon's last step: a float32 parameter from an activation-type Newton-Schulz result. */
    private OpCase applyRoundedUpdate() {
        int n = rows * cols;
        return op("applyRoundedUpdate", "", (side, in) -> {
            Tensor param = side.result("param", side.float32(in.gaussian(n), rows, cols));
            Tensor update = side.activation(in.gaussian(n, 0.05), rows, cols);
            side.optimizer().applyRoundedUpdate(param, update, (float) Math.sqrt((double) cols / rows), MUON_LR,
                    1f - MUON_LR * WEIGHT_DECAY);
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
