package io.pgolf.gpu.cpu;

import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CpuTensorOps.gemm against a naive float64 product, for every transpose combination. */
class CpuTensorOpsGemmTest {
    private static CpuBackend backend;

    @BeforeAll
    static void start() {
        backend = new CpuBackend(2);
    }

    @AfterAll
    static void stop() {
        backend.close();
    }

    /** m x k times k x n with shapes that straddle the 128-wide GEMM tiles. */
    @ParameterizedTest(name = "transposeA={0} transposeB={1} alpha={2} beta={3}")
    @CsvSource({
            "false, false, 1.0, 0.0",
            "false, true, 0.5, 0.0",
            "true, false, -2.0, 1.0",
            "true, true, 1.5, -0.75",
            "false, false, 0.25, 2.0",
            "false, true, 1.0, 1.0",
            "true, false, 1.0, 0.0",
            "true, true, -1.0, 0.0"})
    void matchesNaiveProduct(boolean transposeA, boolean transposeB, float alpha, float beta) {
        checkAgainstNaive(37, 150, 131, transposeA, transposeB, alpha, beta);
    }

    /**
     * Shapes around the kernel's 4-row blocks and 2-vector strips (1 to 2 strips of up to 16 lanes, partial
     * blocks), and products large enough to be split into tiles of rows and columns.
     */
    @ParameterizedTest(name = "{0}x{1}x{2} transposeA={3} transposeB={4}")
    @CsvSource({
            "1, 1, 1, false, false", "3, 7, 5, true, false", "4, 16, 32, false, true", "5, 33, 33, true, true",
            "7, 1, 17, false, false", "8, 64, 31, false, true", "9, 2, 65, true, false", "2, 2, 3, true, true",
            "9, 1024, 1000, false, true", "6, 3000, 700, true, false", "300, 200, 190, true, true"})
    void coversEdgesAndTiles(int m, int k, int n, boolean transposeA, boolean transposeB) {
        checkAgainstNaive(m, k, n, transposeA, transposeB, 1.25f, 0.5f);
    }

    /** Each element is summed in the order of the shared index whatever the split, so 1 and 3 threads agree. */
    @Test
    void resultsDoNotDependOnThreadCount() {
        int m = 70;
        int k = 900;
        int n = 333;
        Random random = new Random(11);
        float[] a = gaussian(random, m * k);
        float[] b = gaussian(random, k * n);
        float[] c = gaussian(random, m * n);
        float[][] results = new float[2][];
        int[] threadCounts = {1, 3};
        for (int run = 0; run < 2; run++) {
            try (CpuBackend own = new CpuBackend(threadCounts[run])) {
                TensorOps ops = own.tensors();
                Tensor tc = ops.upload(DType.F32, c, m, n);
                ops.gemm(true, true, 0.75f, ops.upload(DType.F32, transposed(a, m, k), k, m),
                        ops.upload(DType.F32, transposed(b, k, n), n, k), -1f, tc);
                results[run] = ops.download(tc);
            }
        }
        assertArrayEquals(results[0], results[1]);
    }

    private static void checkAgainstNaive(int m, int k, int n, boolean transposeA, boolean transposeB, float alpha,
                                          float beta) {
        Random random = new Random(7 + m + 31L * k + 977L * n + (transposeA ? 1 : 0) + (transposeB ? 2 : 0));
        float[] a = gaussian(random, m * k);
        float[] b = gaussian(random, k * n);
        float[] c = gaussian(random, m * n);
        TensorOps ops = backend.tensors();
        // a is stored as op(a)^T when transposed, so op(a) is always m x k; likewise b.
        Tensor ta = ops.upload(DType.F32, transposeA ? transposed(a, m, k) : a, transposeA ? new int[]{k, m} : new int[]{m, k});
        Tensor tb = ops.upload(DType.F32, transposeB ? transposed(b, k, n) : b, transposeB ? new int[]{n, k} : new int[]{k, n});
        Tensor tc = ops.upload(DType.F32, c, m, n);

        ops.gemm(transposeA, transposeB, alpha, ta, tb, beta, tc);

        float[] got = ops.download(tc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                double magnitude = 0;
                for (int p = 0; p < k; p++) {
                    double term = (double) a[i * k + p] * b[p * n + j];
                    sum += term;
                    magnitude += Math.abs(term);
                }
                double expected = alpha * sum + beta * (double) c[i * n + j];
                // float32 accumulation of k terms: error bounded by about k ulps of the sum of magnitudes.
                double tolerance = 1e-6 * (Math.abs(alpha) * magnitude + Math.abs(beta * c[i * n + j])) + 1e-30;
                assertEquals(expected, got[i * n + j], tolerance, "c[" + i + "," + j + "]");
            }
        }
    }

    /** Each matrix of a batched GEMM's stacks gets, to the bit, what a lone GEMM of its matrices gives. */
    @ParameterizedTest(name = "transposeA={0} transposeB={1}")
    @CsvSource({"false, false", "false, true", "true, false", "true, true"})
    void batchedGemmIsTheGemmOfEachMatrix(boolean transposeA, boolean transposeB) {
        int count = 3;
        int m = 37;
        int k = 150;
        int n = 45;
        Random random = new Random(5 + (transposeA ? 1 : 0) + (transposeB ? 2 : 0));
        float[] a = gaussian(random, count * m * k);
        float[] b = gaussian(random, count * k * n);
        float[] c = gaussian(random, count * m * n);
        TensorOps ops = backend.tensors();
        int[] aShape = transposeA ? new int[]{k, m} : new int[]{m, k};
        int[] bShape = transposeB ? new int[]{n, k} : new int[]{k, n};
        Tensor stackC = ops.upload(DType.F32, c, count, m, n);
        ops.batchedGemm(transposeA, transposeB, 0.75f, ops.upload(DType.F32, a, count, aShape[0], aShape[1]),
                ops.upload(DType.F32, b, count, bShape[0], bShape[1]), -0.5f, stackC);
        float[] got = ops.download(stackC);
        for (int i = 0; i < count; i++) {
            Tensor ci = ops.upload(DType.F32, Arrays.copyOfRange(c, i * m * n, (i + 1) * m * n), m, n);
            ops.gemm(transposeA, transposeB, 0.75f,
                    ops.upload(DType.F32, Arrays.copyOfRange(a, i * m * k, (i + 1) * m * k), aShape),
                    ops.upload(DType.F32, Arrays.copyOfRange(b, i * k * n, (i + 1) * k * n), bShape), -0.5f, ci);
            assertArrayEquals(ops.download(ci), Arrays.copyOfRange(got, i * m * n, (i + 1) * m * n), "matrix " + i);
        }
    }

    @Test
    void batchedGemmRejectsStacksThatDoNotFit() {
        TensorOps ops = backend.tensors();
        Tensor a = ops.zeros(DType.F32, 2, 3, 4);
        IllegalArgumentException counts = assertThrows(IllegalArgumentException.class,
                () -> ops.batchedGemm(false, false, 1f, a, ops.zeros(DType.F32, 3, 4, 5), 0f,
                        ops.zeros(DType.F32, 2, 3, 5)));
        assertTrue(counts.getMessage().contains("of one count"), counts.getMessage());
        IllegalArgumentException sizes = assertThrows(IllegalArgumentException.class,
                () -> ops.batchedGemm(false, false, 1f, a, ops.zeros(DType.F32, 2, 3, 5), 0f,
                        ops.zeros(DType.F32, 2, 3, 5)));
        assertTrue(sizes.getMessage().contains("do not fit"), sizes.getMessage());
    }

    @Test
    void betaZeroIgnoresNaNInOutput() {
        TensorOps ops = backend.tensors();
        Tensor a = ops.upload(DType.F32, new float[]{1, 2, 3, 4}, 2, 2);
        Tensor c = ops.upload(DType.F32, new float[]{Float.NaN, Float.NaN, Float.NaN, Float.NaN}, 2, 2);
        ops.gemm(false, false, 1f, a, a, 0f, c);
        float[] got = ops.download(c);
        assertEquals(7f, got[0]);
        assertEquals(10f, got[1]);
        assertEquals(15f, got[2]);
        assertEquals(22f, got[3]);
    }

    @Test
    void mismatchedShapesAreRejected() {
        TensorOps ops = backend.tensors();
        Tensor a = ops.zeros(DType.F32, 3, 4);
        Tensor b = ops.zeros(DType.F32, 3, 5);
        Tensor c = ops.zeros(DType.F32, 3, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ops.gemm(false, false, 1f, a, b, 0f, c));
        assertTrue(e.getMessage().contains("do not agree"), e.getMessage());
    }

    private static float[] gaussian(Random random, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextGaussian();
        }
        return out;
    }

    private static float[] transposed(float[] x, int rows, int cols) {
        float[] out = new float[x.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                out[j * rows + i] = x[i * cols + j];
            }
        }
        return out;
    }
}
