package io.pgolf.deploy;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.cuda.CudaBackend;
import io.pgolf.gpu.cuda.CudaRuntime;
import io.pgolf.gpu.cuda.CudaTensorOps;
import io.pgolf.gpu.cuda.DeviceMemoryPool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code pgolf gpu-info}: what the CUDA backend finds on this machine (GPU, memory, cuBLASLt, pgolf's kernels),
 * whether a GEMM through it agrees with the same product computed on the host and gives the same bits when repeated,
 * which algorithm each GEMM problem runs, and how fast the record's GEMM shapes and its attention run. Fails with the
 * reason when there is no usable GPU.
 */
@Command(name = "gpu-info", mixinStandardHelpOptions = true,
        description = "Show the GPU, cuBLASLt and kernels the CUDA backend uses; check and time its GEMMs and attention.")
public final class GpuInfoCommand implements Callable<Integer> {
    /** Calls of each attention direction timed; gpu-info reports their median. */
    private static final int ATTENTION_CALLS = 15;

    @Spec
    CommandSpec spec;

    @Option(names = "--device", defaultValue = "0", description = "GPU ordinal (default ${DEFAULT-VALUE})")
    int device;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (CudaBackend backend = CudaBackend.open(device)) {
            CudaRuntime runtime = backend.runtime();
            out.printf(Locale.ROOT, "GPU %d: %s, compute capability %s, %d multiprocessors, %.1f GiB%n", device,
                    runtime.device().name(), runtime.device().computeCapability(), runtime.device().multiprocessors(),
                    runtime.device().totalMemory() / (double) (1L << 30));
            out.println("cuBLASLt: " + runtime.cublasLibrary());
            out.println("gemm algorithms: " + runtime.gemmSelection());
            out.println("kernels: " + runtime.kernels().modules());
            boolean agrees = checkGemm(runtime.tensors(), out);
            agrees &= checkGemmRepeats(runtime.tensors(), out);
            timeGemms(runtime, out);
            out.println("gemm algorithm per problem (row-major M x N x K as TensorOps.gemm, types, beta):");
            runtime.gemmAlgorithms().forEach(line -> out.println("  " + line));
            timeAttention(backend, out);
            DeviceMemoryPool.Stats stats = runtime.pool().stats();
            out.printf(Locale.ROOT, "device memory: peak %.2f GiB taken, %d driver allocations%n",
                    stats.peakReservedBytes() / (double) (1L << 30), stats.driverAllocations());
            out.flush();
            return agrees ? 0 : 1;
        }
    }

    /** Each transpose combination of a small product, bf16 and float32, against a float64 host product. */
    private static boolean checkGemm(CudaTensorOps ops, PrintWriter out) {
        int m = 67;
        int k = 130;
        int n = 45;
        SplittableRandom random = new SplittableRandom(7);
        float[] a = randomBf16(random, m * k);
        float[] b = randomBf16(random, k * n);
        double[] expected = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) a[i * k + p] * b[p * n + j];
                }
                expected[i * n + j] = sum;
            }
        }
        boolean all = true;
        for (DType type : new DType[] {DType.F32, DType.BF16}) {
            for (int variant = 0; variant < 4; variant++) {
                boolean ta = (variant & 1) != 0;
                boolean tb = (variant & 2) != 0;
                try (Tensor ta0 = ops.upload(type, ta ? transposed(a, m, k) : a, ta ? new int[] {k, m} : new int[] {m, k});
                     Tensor tb0 = ops.upload(type, tb ? transposed(b, k, n) : b, tb ? new int[] {n, k} : new int[] {k, n});
                     Tensor c = ops.zeros(DType.F32, m, n)) {
                    ops.gemm(ta, tb, 1f, ta0, tb0, 0f, c);
                    float[] got = ops.download(c);
                    double err = 0;
                    double ref = 0;
                    for (int i = 0; i < got.length; i++) {
                        err += (got[i] - expected[i]) * (got[i] - expected[i]);
                        ref += expected[i] * expected[i];
                    }
                    double relative = Math.sqrt(err / ref);
                    boolean ok = relative < 1e-5;
                    all &= ok;
                    out.printf(Locale.ROOT, "gemm check %-4s %s%s: relative error %.2e %s%n", type, ta ? "A^T" : "A",
                            tb ? "B^T" : "B", relative, ok ? "ok" : "FAILED");
                }
            }
        }
        return all;
    }

    /**
     * Whether a GEMM gives the same bits when called again: the record's weight-gradient product dW [512, 512] =
     * dy^T x over one micro-batch (K = 98,304), whose algorithms split K and reduce the parts in a workspace.
     */
    private static boolean checkGemmRepeats(CudaTensorOps ops, PrintWriter out) {
        int rows = 98_304;
        int width = 512;
        SplittableRandom random = new SplittableRandom(13);
        try (Tensor dy = ops.upload(DType.BF16, randomBf16(random, rows * width), rows, width);
             Tensor x = ops.upload(DType.BF16, randomBf16(random, rows * width), rows, width);
             Tensor first = ops.zeros(DType.F32, width, width); Tensor second = ops.zeros(DType.F32, width, width)) {
            ops.gemm(true, false, 1f, dy, x, 0f, first);
            ops.gemm(true, false, 1f, dy, x, 0f, second);
            float[] a = ops.download(first);
            float[] b = ops.download(second);
            int differing = 0;
            for (int i = 0; i < a.length; i++) {
                if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                    differing++;
                }
            }
            out.printf(Locale.ROOT, "gemm repeat %dx%dx%d TN BF16->F32: %d of %d values differ between two calls %s%n",
                    width, width, rows, differing, a.length, differing == 0 ? "ok" : "FAILED");
            return differing == 0;
        }
    }

    /** TFLOP/s of bf16 products at the record's shapes (one micro-batch of 48 x 2048 tokens, d 512, MLP 2048). */
    private static void timeGemms(CudaRuntime runtime, PrintWriter out) {
        CudaTensorOps ops = runtime.tensors();
        int[][] shapes = {{98_304, 2048, 512}, {98_304, 512, 2048}, {98_304, 512, 512}, {98_304, 8192, 512},
                {8192, 8192, 8192}};
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            try (Tensor a = ops.zeros(DType.BF16, m, k); Tensor b = ops.zeros(DType.BF16, n, k);
                 Tensor c = ops.zeros(DType.BF16, m, n)) {
                for (int i = 0; i < 3; i++) {
                    ops.gemm(false, true, 1f, a, b, 0f, c);
                }
                runtime.device().synchronize();
                int iterations = 20;
                long start = System.nanoTime();
                for (int i = 0; i < iterations; i++) {
                    ops.gemm(false, true, 1f, a, b, 0f, c);
                }
                runtime.device().synchronize();
                double seconds = (System.nanoTime() - start) / 1e9 / iterations;
                out.printf(Locale.ROOT, "gemm bf16 %6d x %5d x %5d (A B^T): %.3f ms, %.0f TFLOP/s%n", m, n, k,
                        seconds * 1e3, 2.0 * m * n * k / seconds / 1e12);
            }
        }
    }

    /**
     * Time per call (the median of {@value #ATTENTION_CALLS}, each waited for) and TFLOP/s of the causal attention
     * and its backward at one record micro-batch: 48 sequences of 2048, 8 heads of 64 over 4 kv heads, bf16
     * activations and activation gradients as the training has them; plain, then with XSA fused in as the record's
     * layers have it. The forward counts the products of the causal half, 4 B H S^2 D / 2 FLOPs; the backward 2.5
     * times that (five products against the forward's two).
     */
    private static void timeAttention(CudaBackend backend, PrintWriter out) {
        AttentionShape shape = new AttentionShape(48, 2048, 8, 4, 64, 0.125f);
        int rows = shape.rows();
        int qWidth = shape.heads() * shape.headDim();
        int kvWidth = shape.kvHeads() * shape.headDim();
        CudaTensorOps ops = backend.runtime().tensors();
        LayerOps layers = backend.layers();
        SplittableRandom random = new SplittableRandom(11);
        try (Tensor q = ops.upload(DType.BF16, randomBf16(random, rows * qWidth), rows, qWidth);
             Tensor k = ops.upload(DType.BF16, randomBf16(random, rows * kvWidth), rows, kvWidth);
             Tensor v = ops.upload(DType.BF16, randomBf16(random, rows * kvWidth), rows, kvWidth);
             Tensor dOut = ops.upload(DType.BF16, randomBf16(random, rows * qWidth), rows, qWidth);
             Tensor attended = ops.zeros(DType.BF16, rows, qWidth);
             Tensor logSumExp = ops.zeros(DType.F32, shape.batch(), shape.heads(), shape.seqLen());
             Tensor dQ = ops.zeros(DType.BF16, rows, qWidth); Tensor dK = ops.zeros(DType.BF16, rows, kvWidth);
             Tensor dV = ops.zeros(DType.BF16, rows, kvWidth);
             Tensor xsaProjections = ops.zeros(DType.F32, rows * shape.heads())) {
            String label = String.format(Locale.ROOT, "%d x %d, %d heads / %d kv heads of %d", shape.batch(),
                    shape.seqLen(), shape.heads(), shape.kvHeads(), shape.headDim());
            for (Tensor projections : Arrays.asList(null, xsaProjections)) {
                double forward = medianSeconds(backend, () -> layers.attention(q, k, v, shape, attended, logSumExp,
                        projections));
                double backward = medianSeconds(backend, () -> layers.attentionBackward(q, k, v, shape, attended,
                        logSumExp, projections, dOut, dQ, dK, dV));
                String variant = projections == null ? "" : " with XSA";
                out.printf(Locale.ROOT, "attention forward%s  %s: %.3f ms, %.0f TFLOP/s%n", variant, label,
                        forward * 1e3, forwardFlops(shape) / forward / 1e12);
                out.printf(Locale.ROOT, "attention backward%s %s: %.3f ms, %.0f TFLOP/s%n", variant, label,
                        backward * 1e3, 2.5 * forwardFlops(shape) / backward / 1e12);
            }
        }
    }

    /** The products of the causal half of attention's forward: 4 B H S^2 D / 2. */
    private static double forwardFlops(AttentionShape shape) {
        return 4.0 * shape.batch() * shape.heads() * shape.seqLen() * shape.seqLen() * shape.headDim() / 2;
    }

    /** The median time of {@value #ATTENTION_CALLS} calls, each waited for, after three calls of warm-up. */
    private static double medianSeconds(CudaBackend backend, Runnable call) {
        for (int i = 0; i < 3; i++) {
            call.run();
        }
        double[] seconds = new double[ATTENTION_CALLS];
        for (int i = 0; i < seconds.length; i++) {
            backend.synchronize();
            long start = System.nanoTime();
            call.run();
            backend.synchronize();
            seconds[i] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(seconds);
        return seconds[seconds.length / 2];
    }

    private static float[] randomBf16(SplittableRandom random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = io.pgolf.gpu.Bfloat16.round((float) random.nextGaussian());
        }
        return values;
    }

    private static float[] transposed(float[] x, int rows, int cols) {
        float[] t = new float[x.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = x[r * cols + c];
            }
        }
        return t;
    }
}
