package io.pgolf.model.optim;

import io.pgolf.data.SafeTensors;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.testing.SharedFiles;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NewtonSchulzTest {
    /**
     * The reference's output is bfloat16 after five bf16 steps. Matching its per-operation rounding leaves only
     * the order of float32 accumulation inside GEMMs, which can flip a bf16 rounding; a flip moves one element
     * by one bf16 ulp (2^-9 at the output's magnitude, below 0.5). Allowed: 1% of the elements off, each by at
     * most 4 ulps at 0.5, and a relative Frobenius error of 1e-3.
     */
    @Test
    void matchesReferenceFixtureWithinBfloat16Rounding() {
        try (SafeTensors fixture = SafeTensors.open(SharedFiles.fixtures()); CpuBackend backend = new CpuBackend(2)) {
            NewtonSchulz ns = new NewtonSchulz(backend, 5);
            int[] shape = {1, (int) fixture.info("ns.in").shape()[0], (int) fixture.info("ns.in").shape()[1]};
            float[] expected = fixture.floats("ns.out");
            Tensor x = backend.tensors().upload(DType.F32, fixture.floats("ns.in"), shape);

            ns.orthogonalize(x);
            float[] got = backend.tensors().download(x);
            double diff = 0;
            double ref = 0;
            double maxAbs = 0;
            int differing = 0;
            for (int i = 0; i < got.length; i++) {
                double d = got[i] - expected[i];
                diff += d * d;
                ref += (double) expected[i] * expected[i];
                maxAbs = Math.max(maxAbs, Math.abs(d));
                differing += d == 0 ? 0 : 1;
            }
            double relative = Math.sqrt(diff / ref);
            System.out.printf("NS vs ns.out: relative Frobenius error %.3e, max abs %.3e, %d of %d elements differ%n",
                    relative, maxAbs, differing, got.length);
            assertTrue(relative <= 1e-3, "relative error " + relative);
            assertTrue(maxAbs <= 4 * 0x1p-9, "max abs error " + maxAbs);
            assertTrue(differing <= got.length / 100, differing + " elements differ");
        }
    }

    /**
     * Tall and wide inputs give transposed results of each other, to the bit: the tall one is worked on through
     * transposed products whose sums are the wide one's.
     */
    @Test
    void tallMatrixIsOrthogonalizedAsItsTranspose() {
        try (CpuBackend backend = new CpuBackend(2)) {
            NewtonSchulz ns = new NewtonSchulz(backend, 5);
            TensorOps ops = backend.tensors();
            int rows = 48;
            int cols = 20;
            Random random = new Random(5);
            float[] values = new float[rows * cols];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            Tensor tall = ops.upload(DType.F32, values, 1, rows, cols);
            Tensor wide = ops.zeros(DType.F32, 1, cols, rows);
            ops.transpose(tall, wide);
            ns.orthogonalize(tall);
            float[] a = ops.download(tall);
            ns.orthogonalize(wide);
            Tensor wideOutTransposed = ops.zeros(DType.F32, rows, cols);
            ops.transpose(wide, wideOutTransposed);
            float[] b = ops.download(wideOutTransposed);
            for (int i = 0; i < a.length; i++) {
                assertEquals(b[i], a[i], 0f, "element " + i);
            }
            // Five steps push every singular value of a Gaussian 20 x 48 matrix into roughly [0.7, 1.2].
            Tensor gram = ops.zeros(DType.F32, cols, cols);
            ops.gemm(true, false, 1f, tall, tall, 0f, gram);
            float[] gramValues = ops.download(gram);
            for (int i = 0; i < cols; i++) {
                float diagonal = gramValues[i * cols + i];
                assertTrue(diagonal > 0.4f && diagonal < 1.5f, "squared column norm " + diagonal);
            }
        }
    }
}
