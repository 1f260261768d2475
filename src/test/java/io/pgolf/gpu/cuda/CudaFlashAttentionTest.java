package io.pgolf.gpu.cuda;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.Bfloat16;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;
import io.pgolf.gpu.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CudaFlashAttention against the CPU reference (float32 arithmetic on the same bf16-valued inputs) on shapes that
 * reach every edge of its tiling: one position, lengths no tile divides, several 128-row blocks with a ragged last
 * one, grouped heads, a head_dim below 64, float32 operands, with and without XSA fused in. Needs a GPU; skipped without one.
 * Tolerances (relative error in the Frobenius norm) are those of the backend parity table: bf16 products 1e-2,
 * log-sum-exp 1e-5 (float32), the backward's gradients 2e-2.
 */
class CudaFlashAttentionTest {
    private static CudaRuntime runtime;
    private static CpuBackend cpu;

    @BeforeAll
    static void open() {
        try {
            runtime = CudaRuntime.open(0);
        } catch (CudaUnavailableException e) {
            Assumptions.abort("no usable GPU: " + e.getMessage());
        }
        cpu = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        if (runtime != null) {
            runtime.close();
        }
        if (cpu != null) {
            cpu.close();
        }
    }

    @ParameterizedTest(name = "batch {0} seqLen {1} heads {2}/{3} headDim {4}, {5} operands, {6} gradients, XSA {7}")
    @CsvSource({
            "2, 1, 2, 1, 64, BF16, F32, false",
            "3, 100, 4, 2, 64, BF16, F32, false",
            "3, 100, 4, 2, 64, BF16, F32, true",
            "1, 300, 8, 4, 64, BF16, BF16, true",
            "2, 129, 6, 2, 64, F32, F32, false",
            "2, 129, 6, 2, 64, F32, F32, true",
            "2, 32, 4, 2, 16, BF16, F32, true",
            "1, 1024, 8, 4, 64, BF16, F32, false",
    })
    void matchesTheCpuReference(int batch, int seqLen, int heads, int kvHeads, int headDim, DType operands,
                                DType gradients, boolean xsa) {
        AttentionShape shape = new AttentionShape(batch, seqLen, heads, kvHeads, headDim,
                (float) (1 / Math.sqrt(headDim)));
        Random random = new Random(seqLen * 31L + heads);
        int rows = shape.rows();
        int qWidth = heads * headDim;
        int kvWidth = kvHeads * headDim;
        // Queries at twice the spread of keys: softmaxes from flat to peaked.
        float[] q = gaussian(random, rows * qWidth, 2);
        float[] k = gaussian(random, rows * kvWidth, 1);
        float[] v = gaussian(random, rows * kvWidth, 1);
        float[] dOut = gaussian(random, rows * qWidth, 1);
        // Gradients start from non-zero values (backward adds); small ones where bf16 rounds each sum, so that the
        // rounding of start + contribution stays small next to the contribution.
        double start = gradients == DType.BF16 ? 0.05 : 1;
        float[] dQ0 = gaussian(random, rows * qWidth, start);
        float[] dK0 = gaussian(random, rows * kvWidth, start);
        float[] dV0 = gaussian(random, rows * kvWidth, start);

        TensorOps c = cpu.tensors();
        Tensor cpuOut = c.zeros(DType.F32, rows, qWidth);
        Tensor cpuLse = c.zeros(DType.F32, batch, heads, seqLen);
        Tensor cpuQ = c.upload(DType.F32, q, rows, qWidth);
        Tensor cpuK = c.upload(DType.F32, k, rows, kvWidth);
        Tensor cpuV = c.upload(DType.F32, v, rows, kvWidth);
        Tensor cpuProjections = xsa ? c.zeros(DType.F32, rows * heads) : null;
        cpu.layers().attention(cpuQ, cpuK, cpuV, shape, cpuOut, cpuLse, cpuProjections);
        Tensor cpuDq = c.upload(DType.F32, dQ0, rows, qWidth);
        Tensor cpuDk = c.upload(DType.F32, dK0, rows, kvWidth);
        Tensor cpuDv = c.upload(DType.F32, dV0, rows, kvWidth);
        cpu.layers().attentionBackward(cpuQ, cpuK, cpuV, shape, cpuOut, cpuLse, cpuProjections, c.upload(DType.F32, dOut, rows, qWidth),
                cpuDq, cpuDk, cpuDv);

        CudaTensorOps g = runtime.tensors();
        CudaFlashAttention attention = new CudaFlashAttention(runtime);
        Tensor gpuQ = g.upload(operands, q, rows, qWidth);
        Tensor gpuK = g.upload(operands, k, rows, kvWidth);
        Tensor gpuV = g.upload(operands, v, rows, kvWidth);
        Tensor gpuOut = g.zeros(operands, rows, qWidth);
        Tensor gpuLse = g.zeros(DType.F32, batch, heads, seqLen);
        Tensor gpuProjections = xsa ? g.zeros(DType.F32, rows * heads) : null;
        attention.forward(gpuQ, gpuK, gpuV, shape, gpuOut, gpuLse, gpuProjections);
        assertClose("out", c.download(cpuOut), g.download(gpuOut), 1e-2);
        assertClose("logSumExp", c.download(cpuLse), g.download(gpuLse), 1e-5);
        if (xsa) {
            assertClose("xsaProjections", c.download(cpuProjections), g.download(gpuProjections), 1e-2);
        }

        Tensor gpuDq = g.upload(gradients, dQ0, rows, qWidth);
        Tensor gpuDk = g.upload(gradients, dK0, rows, kvWidth);
        Tensor gpuDv = g.upload(gradients, dV0, rows, kvWidth);
        attention.backward(gpuQ, gpuK, gpuV, shape, gpuOut, gpuLse, gpuProjections, g.upload(gradients, dOut, rows, qWidth), gpuDq,
                gpuDk, gpuDv);
        // What was added, so that the starting values do not hide the error of the contribution.
        assertClose("dQ", minus(c.download(cpuDq), dQ0), minus(g.download(gpuDq), dQ0), 2e-2);
        assertClose("dK", minus(c.download(cpuDk), dK0), minus(g.download(gpuDk), dK0), 2e-2);
        assertClose("dV", minus(c.download(cpuDv), dV0), minus(g.download(gpuDv), dV0), 2e-2);
    }

    @Test
    void backwardIsDeterministic() {
        AttentionShape shape = new AttentionShape(2, 700, 8, 4, 64, 0.125f);
        Random random = new Random(7);
        int rows = shape.rows();
        CudaTensorOps g = runtime.tensors();
        CudaFlashAttention attention = new CudaFlashAttention(runtime);
        Tensor q = g.upload(DType.BF16, gaussian(random, rows * 512, 1), rows, 512);
        Tensor k = g.upload(DType.BF16, gaussian(random, rows * 256, 1), rows, 256);
        Tensor v = g.upload(DType.BF16, gaussian(random, rows * 256, 1), rows, 256);
        Tensor dOut = g.upload(DType.F32, gaussian(random, rows * 512, 1), rows, 512);
        Tensor out = g.zeros(DType.BF16, rows, 512);
        Tensor lse = g.zeros(DType.F32, 2, 8, 700);
        Tensor projections = g.zeros(DType.F32, rows * 8);
        attention.forward(q, k, v, shape, out, lse, projections);
        float[][] first = gradients(attention, q, k, v, shape, out, lse, projections, dOut);
        float[][] second = gradients(attention, q, k, v, shape, out, lse, projections, dOut);
        for (int i = 0; i < first.length; i++) {
            assertArrayEquals(first[i], second[i], "gradient " + "QKV".charAt(i) + " differs between two runs");
        }
    }

    private static float[][] gradients(CudaFlashAttention attention, Tensor q, Tensor k, Tensor v, AttentionShape shape,
                                       Tensor out, Tensor lse, Tensor projections, Tensor dOut) {
        CudaTensorOps g = runtime.tensors();
        Tensor dQ = g.zeros(DType.F32, q.shape());
        Tensor dK = g.zeros(DType.F32, k.shape());
        Tensor dV = g.zeros(DType.F32, v.shape());
        attention.backward(q, k, v, shape, out, lse, projections, dOut, dQ, dK, dV);
        return new float[][] {g.download(dQ), g.download(dK), g.download(dV)};
    }

    private static void assertClose(String what, float[] expected, float[] actual, double tolerance) {
        double error = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = (double) actual[i] - expected[i];
            error += d * d;
            norm += (double) expected[i] * expected[i];
        }
        double relative = Math.sqrt(error / norm);
        assertTrue(relative <= tolerance, what + ": relative error " + relative + " exceeds " + tolerance);
    }

    private static float[] minus(float[] a, float[] b) {
        float[] d = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }

    /** Gaussian values of standard deviation {@code std}, rounded to bfloat16 so that both sides see the same. */
    private static float[] gaussian(Random random, int size, double std) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = Bfloat16.round((float) (random.nextGaussian() * std));
        }
        return values;
    }
}
