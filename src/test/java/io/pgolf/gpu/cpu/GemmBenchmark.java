package io.pgolf.gpu.cpu;

import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Random;

/**
 * Times CpuTensorOps.gemm on the record model's shapes (N = 2048 tokens, d = 512) after warming the JIT and prints
 * multiply-adds per second. Arguments: threads, then optionally shapes as {@code NN:m:k:n} (NN, NT, TN or TT).
 * With one thread the product runs on the calling thread and is also timed by that thread's CPU time, which other
 * work on a shared machine disturbs far less than the wall clock.
 */
public final class GemmBenchmark {
    private static final int WARMUP = 5;
    private static final int RUNS = 15;
    private static final ThreadMXBean THREAD_CLOCK = ManagementFactory.getThreadMXBean();
    private static final String[] RECORD_SHAPES = {
            "NT:2048:512:512", "NT:2048:512:2048", "NN:2048:2048:512", "TN:512:2048:2048", "TN:2048:2048:512",
            "NT:2048:512:8192", "NN:2048:8192:512", "TN:8192:2048:512", "NT:512:2048:512", "NN:512:512:2048",
            "NT:256:64:64", "TN:64:256:64", "NN:256:64:256"};

    private GemmBenchmark() {
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        String[] shapes = args.length > 1 ? Arrays.copyOfRange(args, 1, args.length) : RECORD_SHAPES;
        try (CpuBackend backend = new CpuBackend(threads)) {
            TensorOps ops = backend.tensors();
            Random random = new Random(1);
            for (String spec : shapes) {
                String[] parts = spec.split(":");
                boolean transposeA = parts[0].charAt(0) == 'T';
                boolean transposeB = parts[0].charAt(1) == 'T';
                int m = Integer.parseInt(parts[1]);
                int k = Integer.parseInt(parts[2]);
                int n = Integer.parseInt(parts[3]);
                Tensor a = ops.upload(DType.F32, gaussian(random, m * k), transposeA ? new int[]{k, m} : new int[]{m, k});
                Tensor b = ops.upload(DType.F32, gaussian(random, k * n), transposeB ? new int[]{n, k} : new int[]{k, n});
                Tensor c = ops.zeros(DType.F32, m, n);
                double[] seconds = new double[RUNS];
                double[] cpuSeconds = new double[RUNS];
                for (int run = -WARMUP; run < RUNS; run++) {
                    long start = System.nanoTime();
                    long cpuStart = THREAD_CLOCK.getCurrentThreadCpuTime();
                    ops.gemm(transposeA, transposeB, 1f, a, b, 1f, c);
                    if (run >= 0) {
                        cpuSeconds[run] = (THREAD_CLOCK.getCurrentThreadCpuTime() - cpuStart) / 1e9;
                        seconds[run] = (System.nanoTime() - start) / 1e9;
                    }
                }
                double fastest = Arrays.stream(seconds).min().orElseThrow();
                double fma = (double) m * k * n;
                System.out.printf("%-18s %8.2f ms %7.1f GFMA/s", spec, fastest * 1e3, fma / fastest / 1e9);
                if (threads == 1) {
                    double fastestCpu = Arrays.stream(cpuSeconds).min().orElseThrow();
                    System.out.printf("   cpu time %8.2f ms %7.1f GFMA/s", fastestCpu * 1e3, fma / fastestCpu / 1e9);
                }
                System.out.println();
            }
        }
    }

    private static float[] gaussian(Random random, int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
