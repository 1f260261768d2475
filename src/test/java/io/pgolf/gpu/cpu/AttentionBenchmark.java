package io.pgolf.gpu.cpu;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;

import java.util.Arrays;
import java.util.Random;

/**
 * Times the CPU attention forward and backward on random inputs, after warming the JIT.
 * Arguments: threads batch seqLen heads kvHeads headDim (defaults 2 8 256 8 4 64).
 */
public final class AttentionBenchmark {
    private static final int WARMUP = 5;
    private static final int RUNS = 15;

    private AttentionBenchmark() {
    }

    public static void main(String[] args) {
        int[] p = {2, 8, 256, 8, 4, 64};
        for (int i = 0; i < args.length; i++) {
            p[i] = Integer.parseInt(args[i]);
        }
        AttentionShape shape = new AttentionShape(p[1], p[2], p[3], p[4], p[5], (float) (1 / Math.sqrt(p[5])));
        try (CpuBackend backend = new CpuBackend(p[0])) {
            TensorOps t = backend.tensors();
            LayerOps ops = backend.layers();
            Random random = new Random(1);
            int rows = shape.rows();
            int qWidth = shape.heads() * shape.headDim();
            int kvWidth = shape.kvHeads() * shape.headDim();
            Tensor q = t.upload(DType.F32, gaussian(random, rows * qWidth), rows, qWidth);
            Tensor k = t.upload(DType.F32, gaussian(random, rows * kvWidth), rows, kvWidth);
            Tensor v = t.upload(DType.F32, gaussian(random, rows * kvWidth), rows, kvWidth);
            Tensor dOut = t.upload(DType.F32, gaussian(random, rows * qWidth), rows, qWidth);
            Tensor out = t.zeros(DType.F32, rows, qWidth);
            Tensor logSumExp = t.zeros(DType.F32, shape.batch(), shape.heads(), shape.seqLen());
            Tensor dQ = t.zeros(DType.F32, rows, qWidth);
            Tensor dK = t.zeros(DType.F32, rows, kvWidth);
            Tensor dV = t.zeros(DType.F32, rows, kvWidth);
            double[] forward = new double[RUNS];
            double[] backward = new double[RUNS];
            for (int run = -WARMUP; run < RUNS; run++) {
                long start = System.nanoTime();
                ops.attention(q, k, v, shape, out, logSumExp, null);
                long middle = System.nanoTime();
                ops.attentionBackward(q, k, v, shape, out, logSumExp, null, dOut, dQ, dK, dV);
                long end = System.nanoTime();
                if (run >= 0) {
                    forward[run] = (middle - start) / 1e6;
                    backward[run] = (end - middle) / 1e6;
                }
            }
            System.out.printf("%s, %s: forward %.1f ms, backward %.1f ms (fastest of %d; medians %.1f, %.1f)%n",
                    backend.name(), shape, fastest(forward), fastest(backward), RUNS, median(forward),
                    median(backward));
        }
    }

    private static float[] gaussian(Random random, int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    /** The fastest run: the one least disturbed by other work on the machine. */
    private static double fastest(double[] values) {
        return Arrays.stream(values).min().orElseThrow();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
