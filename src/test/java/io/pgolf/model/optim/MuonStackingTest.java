package io.pgolf.model.optim;

import io.pgolf.gpu.Bfloat16;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;
import io.pgolf.gpu.TimedBackend;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Parameter;
import io.pgolf.model.ParameterSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Muon over stacks of same-shaped matrices gives every matrix, to the bit, what Muon gave it matrix by matrix before
 * stacking: the oracle below is that per-matrix step (momentum and MuonEq-R in float32, Newton-Schulz through
 * single-matrix GEMMs with a tall matrix transposed into its wide orientation, the update rounded to bfloat16), run
 * on the CPU backend beside the stacked one on the same parameters, across steps with changing gradients, momentum
 * and learning rate.
 */
class MuonStackingTest {
    private static final double LR = 0.02;
    private static final double WD = 0.085;
    private static final int STEPS = 3;
    /** Shapes in parameter order: wide, tall, square and a single row, each shape's matrices spread out. */
    private static final int[][] SHAPES = {{24, 40}, {40, 24}, {32, 32}, {24, 40}, {1, 16}, {40, 24}, {24, 40},
            {32, 32}};

    /**
     * With the default stack size every shape makes one stack (4); with 2,000 values the three 24 x 40 matrices
     * make stacks of 2 and 1 and the two 32 x 32 ones a stack each (6).
     */
    @ParameterizedTest(name = "stack values {0}, rows normalized {1}")
    @CsvSource({"4194304, true, 4", "4194304, false, 4", "2000, true, 6"})
    void everyMatrixGetsItsPerMatrixUpdate(long stackValues, boolean rowNormalize, int stacks) {
        try (CpuBackend cpu = new CpuBackend(2); ParameterSet stacked = new ParameterSet(cpu);
             ParameterSet single = new ParameterSet(cpu)) {
            Random random = new Random(11);
            List<Parameter> stackedParams = new ArrayList<>();
            List<Parameter> singleParams = new ArrayList<>();
            for (int i = 0; i < SHAPES.length; i++) {
                float[] initial = gaussian(random, SHAPES[i][0] * SHAPES[i][1], 0.1);
                stackedParams.add(stacked.add("m" + i, initial, SHAPES[i]));
                singleParams.add(single.add("m" + i, initial, SHAPES[i]));
            }
            TimedBackend timed = new TimedBackend(cpu);
            List<float[]> buffers = new ArrayList<>();
            singleParams.forEach(p -> buffers.add(new float[(int) p.value().size()]));
            try (Muon muon = new Muon(timed, stackedParams, LR, 5, WD, rowNormalize, stackValues)) {
                for (int step = 0; step < STEPS; step++) {
                    double lrMultiplier = 1.0 - 0.3 * step;
                    double momentum = 0.85 + 0.05 * step;
                    for (int i = 0; i < SHAPES.length; i++) {
                        float[] g = gaussian(random, SHAPES[i][0] * SHAPES[i][1], 1.0 + i);
                        setGrad(cpu, stackedParams.get(i), g);
                        setGrad(cpu, singleParams.get(i), g);
                    }
                    timed.clear();
                    muon.step(lrMultiplier, momentum);
                    assertEquals(stacks, timed.table().get("nesterovMomentum")[1], "stacks of step " + step);
                    for (int i = 0; i < SHAPES.length; i++) {
                        perMatrixStep(cpu, singleParams.get(i), buffers.get(i), lrMultiplier, momentum, rowNormalize);
                    }
                    for (int i = 0; i < SHAPES.length; i++) {
                        assertArrayEquals(cpu.tensors().download(singleParams.get(i).value()),
                                cpu.tensors().download(stackedParams.get(i).value()), "matrix " + i + ", step " + step);
                    }
                }
            }
        }
    }

    /** Muon's step of one matrix before stacking; buf is its momentum. */
    private static void perMatrixStep(CpuBackend cpu, Parameter p, float[] buf, double lrMultiplier, double momentum,
                                      boolean rowNormalize) {
        TensorOps ops = cpu.tensors();
        int rows = p.shape()[0];
        int cols = p.shape()[1];
        float m = (float) momentum;
        float[] g = ops.download(p.grad());
        float[] u = new float[g.length];
        for (int i = 0; i < g.length; i++) {
            buf[i] = g[i] + m * buf[i];
            u[i] = m * buf[i] + g[i];
        }
        if (rowNormalize) {
            for (int r = 0; r < rows; r++) {
                double sq = 0;
                for (int j = 0; j < cols; j++) {
                    sq += (double) u[r * cols + j] * u[r * cols + j];
                }
                float inv = (float) (1.0 / Math.max(Math.sqrt(sq), Muon.ROW_NORM_EPS));
                for (int j = 0; j < cols; j++) {
                    u[r * cols + j] *= inv;
                }
            }
        }
        float[] orthogonal;
        try (Tensor update = ops.upload(DType.F32, u, rows, cols)) {
            orthogonal = newtonSchulzOfOneMatrix(cpu, update);
        }
        double lr = LR * lrMultiplier;
        float decay = (float) (1.0 - lr * WD);
        float negativeLr = (float) -lr;
        float scale = (float) Math.sqrt(Math.max(1.0, (double) rows / cols));
        float[] values = ops.download(p.value());
        for (int i = 0; i < values.length; i++) {
            values[i] = negativeLr * Bfloat16.round(scale * orthogonal[i]) + decay * values[i];
        }
        try (Tensor updated = ops.upload(DType.F32, values, rows, cols)) {
            ops.copy(updated, p.value());
        }
    }

    /** Newton-Schulz of one matrix g [rows, cols] as it ran before stacking: a tall g transposed to work on. */
    private static float[] newtonSchulzOfOneMatrix(CpuBackend cpu, Tensor g) {
        TensorOps ops = cpu.tensors();
        int rows = g.dim(0);
        int cols = g.dim(1);
        boolean tall = rows > cols;
        int m = Math.min(rows, cols);
        int n = Math.max(rows, cols);
        try (Tensor x = ops.zeros(DType.F32, m, n); Tensor y = ops.zeros(DType.F32, m, n);
             Tensor a = ops.zeros(DType.F32, m, m); Tensor b = ops.zeros(DType.F32, m, m);
             Tensor scratch = ops.zeros(DType.F32, m, m); Tensor normalized = ops.zeros(DType.F32, rows, cols)) {
            cpu.optimizer().normalizeBfloat16(g, normalized, NewtonSchulz.EPS);
            if (tall) {
                ops.transpose(normalized, x);
            } else {
                ops.copy(normalized, x);
            }
            for (int step = 0; step < 5; step++) {
                ops.gemm(false, true, 1f, x, x, 0f, a);
                ops.roundToBfloat16(a);
                cpu.optimizer().roundedScaleAdd(NewtonSchulz.C, a, null, scratch);
                ops.gemm(false, false, 1f, scratch, a, 0f, b);
                ops.roundToBfloat16(b);
                cpu.optimizer().roundedScaleAdd(NewtonSchulz.B, a, b, b);
                ops.gemm(false, false, 1f, b, x, 0f, y);
                ops.roundToBfloat16(y);
                cpu.optimizer().roundedScaleAdd(NewtonSchulz.A, x, y, x);
            }
            if (tall) {
                ops.transpose(x, normalized);
                return ops.download(normalized);
            }
            return ops.download(x);
        }
    }

    private static float[] gaussian(Random random, int n, double std) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * std);
        }
        return values;
    }

    private static void setGrad(CpuBackend cpu, Parameter p, float[] values) {
        try (Tensor g = cpu.tensors().upload(DType.F32, values, p.shape())) {
            cpu.tensors().copy(g, p.grad());
        }
    }
}
