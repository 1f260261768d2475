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
 * operation over a list of tensors gets {@link #listShapes}'s list, its results named with the tensor's index; Muon's
 * operations over a stack of matrices get {@link #STACK} of them.
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
    /** Matrices in the stack of a Muon operation: three, so that no power of two hides an indexing slip. */
    private static final int STACK = 3;

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
                c.nesterovMomentum(true), c.nesterovMomentum(false), c.normalizeBfloat16(),
                c.normalizeBfloat16Stack(false), c.normalizeBfloat16Stack(true), c.roundedScaleAdd(false, false),
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

    /** A case over a stack of {@link #STACK} matrices of rows x cols. */
    private OpCase stackOp(String op, String variant, OpCase.Body body) {
        return new OpCase(scale.name(), op, variant, dims(STACK, rows, cols), body);
    }

    /**
     * Gradients of {@link #STACK} float32 matrices, each twice as large as the one before (so that a matrix given
     * another's gradient shows).
     */
    private List<Tensor> stackGradients(Side side, CaseInputs in, boolean zeroFirstRow) {
        List<Tensor> grads = new ArrayList<>();
        for (int i = 0; i < STACK; i++) {
            float[] values = in.gaussian(rows * cols, 1 << i);
            if (zeroFirstRow && i == 0) {
                Arrays.fill(values, 0, cols, 0f);
            }
            grads.add(side.float32(values, rows, cols));
        }
        return grads;
    }

    /**
     * Muon's use: MuonEq-R's rows into an activation-type update, where the first matrix's row 0 is all zeros
     * (gradient and buffer), so it must stay zero (divided by eps), not become NaN; and plain momentum into a float32
     * update.
     */
    private OpCase nesterovMomentum(boolean normalizeRows) {
        Storage updateStorage = normalizeRows ? Storage.ACTIVATION : Storage.FLOAT32;
        return stackOp("nesterovMomentum", normalizeRows ? "rows normalized, act" : "f32", (side, in) -> {
            List<Tensor> grads = stackGradients(side, in, normalizeRows);
            float[] buf = in.gaussian(STACK * rows * cols);
            if (normalizeRows) {
                Arrays.fill(buf, 0, cols, 0f);
            }
            Tensor b = side.result("buf", side.float32(buf, STACK, rows, cols));
            side.optimizer().nesterovMomentum(grads, b, side.output("update", updateStorage, STACK, rows, cols),
                    MOMENTUM, normalizeRows, ROW_EPS);
        });
    }

    /** Float32 values into the activation type, as a matrix (one norm). */
    private OpCase normalizeBfloat16() {
        return op("normalizeBfloat16", "", (side, in) -> {
            Tensor src = side.float32(in.gaussian(rows * cols, 3.0), rows, cols);
            side.optimizer().normalizeBfloat16(src, side.output("dst", Storage.ACTIVATION, rows, cols),
                    NEWTON_SCHULZ_EPS);
        });
    }

    /**
     * A stack whose matrices lie orders of magnitude apart (one norm for all would shrink the small ones to
     * nothing): from float32 into the activation type, and in place in the activation type as Newton-Schulz starts.
     */
    private OpCase normalizeBfloat16Stack(boolean inPlace) {
        return stackOp("normalizeBfloat16", inPlace ? "stack, in place" : "stack", (side, in) -> {
            float[] values = new float[STACK * rows * cols];
            for (int i = 0; i < STACK; i++) {
                float[] matrix = in.gaussian(rows * cols, Math.pow(100, i - 1));
                System.arraycopy(matrix, 0, values, i * matrix.length, matrix.length);
            }
            Tensor src = inPlace ? side.result("dst", side.activation(values, STACK, rows, cols))
                    : side.float32(values, STACK, rows, cols);
            Tensor dst = inPlace ? src : side.output("dst", Storage.ACTIVATION, STACK, rows, cols);
            side.optimizer().normalizeBfloat16(src, dst, NEWTON_SCHULZ_EPS);
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

    /** Muon's last step: float32 parameters from a stack of activation-type Newton-Schulz results. */
    private OpCase applyRoundedUpdate() {
        int n = rows * cols;
        return stackOp("applyRoundedUpdate", "", (side, in) -> {
            List<Tensor> params = new ArrayList<>();
            for (int i = 0; i < STACK; i++) {
                params.add(side.result("param[" + i + "]", side.float32(in.gaussian(n), rows, cols)));
            }
            Tensor update = side.activation(in.gaussian(STACK * n, 0.05), STACK, rows, cols);
            side.optimizer().applyRoundedUpdate(params, update, (float) Math.sqrt((double) cols / rows), MUON_LR,
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
