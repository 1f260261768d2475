package io.pgolf.model.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** GPTQ on synthetic matrices wider than one block, against a column-by-column transcription of the reference. */
class GptqTest {
    private static final int ROWS = 24;
    private static final int COLS = 300;
    private static final int[] DEAD = {7, 200};

    @ParameterizedTest(name = "int{0}, {1} sigmas")
    @CsvSource({"6, 12.85", "8, 20.0", "4, 2.5"})
    void equalsTheReferenceLoopAcrossBlocks(int bits, double clipSigmas) {
        Random random = new Random(bits);
        float[] w = gaussian(random, ROWS * COLS, 0.05f);
        Hessian h = calibrated(random, 400);

        QuantizedTensor.Codes q = Gptq.quantize("w", w, ROWS, COLS, h, clipSigmas, bits);

        assertArrayEquals(referenceLoop(w, h, clipSigmas, bits), q.codes());
        int max = (1 << (bits - 1)) - 1;
        long clamped = IntStream.range(0, q.codes().length).filter(i -> Math.abs(q.codes()[i]) == max).count();
        System.out.printf("int%d at %.2f sigmas: %d codes at the clip range%n", bits, clipSigmas, clamped);
    }

    @Test
    void anAllZeroRowGetsZeroCodesAndScale() {
        Random random = new Random(1);
        float[] w = gaussian(random, ROWS * COLS, 0.05f);
        Arrays.fill(w, 3 * COLS, 4 * COLS, 0f);
        QuantizedTensor.Codes q = Gptq.quantize("w", w, ROWS, COLS, calibrated(random, 400), 12.85, 6);
        assertEquals(0, q.scales()[3]);
        for (int c = 0; c < COLS; c++) {
            assertEquals(0, q.codes()[3 * COLS + c]);
        }
    }

    @Test
    void factorTimesItsTransposeInvertsTheMatrix() {
        int n = 150;
        int tokens = 600;
        Hessian h = calibrated(new Random(3), tokens, n, new int[0]);
        // Averaged and shifted by the identity to keep the condition number small: U is float32, so the residual
        // is about its rounding (6e-8) times the condition number.
        double[] a = new double[n * n];
        for (int i = 0; i < n * n; i++) {
            a[i] = h.values()[i] / tokens + (i % (n + 1) == 0 ? 1.0 : 0.0);
        }
        float[] u = InverseCholesky.upperFactorOfInverse(a, n);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                assertEquals(0f, u[i * n + j], "lower triangle");
            }
            for (int j = 0; j < n; j++) {
                // (U^T U A)_ij = sum_k (U^T U)_ik A_kj
                double sum = 0;
                for (int k = 0; k < n; k++) {
                    double utu = 0;
                    for (int m = 0; m <= Math.min(i, k); m++) {
                        utu += (double) u[m * n + i] * u[m * n + k];
                    }
                    sum += utu * a[k * n + j];
                }
                worst = Math.max(worst, Math.abs(sum - (i == j ? 1 : 0)));
            }
        }
        System.out.printf("max |U^T U H - I| = %.2e%n", worst);
        assertTrue(worst < 1e-5, "max |U^T U H - I| = " + worst);
    }

    @Test
    void anIndefiniteHessianIsReportedByName() {
        float[] values = new float[COLS * COLS];
        for (int i = 0; i < COLS; i++) {
            values[i * COLS + i] = 1f;
        }
        values[1] = 5f;
        values[COLS] = 5f;
        Hessian h = new Hessian("h", COLS, values);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gptq.quantize("blocks.0.mlp.fc.weight", new float[ROWS * COLS], ROWS, COLS, h, 12.85, 6));
        assertTrue(e.getMessage().contains("blocks.0.mlp.fc.weight"), e.getMessage());
    }

    private static float[] gaussian(Random random, int n, float std) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextGaussian() * std;
        }
        return out;
    }

    private static Hessian calibrated(Random random, int tokens) {
        return calibrated(random, tokens, COLS, DEAD);
    }

    /** X^T X of correlated inputs (a random mix of fewer sources than columns), some columns always zero. */
    private static Hessian calibrated(Random random, int tokens, int n, int[] dead) {
        int sources = n / 2;
        float[] mix = gaussian(random, sources * n, 1f);
        float[] x = new float[tokens * n];
        for (int t = 0; t < tokens; t++) {
            for (int s = 0; s < sources; s++) {
                float v = (float) random.nextGaussian();
                for (int c = 0; c < n; c++) {
                    x[t * n + c] += v * mix[s * n + c];
                }
            }
            for (int c = 0; c < n; c++) {
                x[t * n + c] += 0.1f * (float) random.nextGaussian();
            }
            for (int c : dead) {
                x[t * n + c] = 0f;
            }
        }
        float[] h = new float[n * n];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    h[i * n + j] += x[t * n + i] * x[t * n + j];
                }
            }
        }
        return new Hessian("h", n, h);
    }

    /**
     * The reference's gptq_quantize_weight written out over whole columns, as torch runs it: W[:, perm], blocks of
     * 128 columns, each column quantized for all rows, W_block[:, j:] -= err * Hinv[j, j:], and
     * W[:, i2:] -= Err @ Hinv[i1:i2, i2:] once per block, then Q[:, invperm].
     */
    private static byte[] referenceLoop(float[] weight, Hessian hessian, double clipSigmas, int bits) {
        int n = COLS;
        float clipRange = (1 << (bits - 1)) - 1;
        float[] h = hessian.values().clone();
        boolean[] dead = new boolean[n];
        double diagonal = 0;
        for (int j = 0; j < n; j++) {
            if (h[j * n + j] == 0f) {
                dead[j] = true;
                h[j * n + j] = 1f;
            }
            diagonal += h[j * n + j];
        }
        float damp = 0.01f * (float) (diagonal / n);
        for (int j = 0; j < n; j++) {
            h[j * n + j] += damp;
        }
        int[] perm = IntStream.range(0, n).boxed()
                .sorted(Comparator.comparingDouble((Integer j) -> h[j * n + j]).reversed())
                .mapToInt(Integer::intValue).toArray();
        float[][] work = new float[ROWS][n];
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < n; j++) {
                work[r][j] = dead[perm[j]] ? 0f : weight[r * n + perm[j]];
            }
        }
        double[] permuted = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                permuted[i * n + j] = h[perm[i] * n + perm[j]];
            }
        }
        float[] u = InverseCholesky.upperFactorOfInverse(permuted, n);
        short[] scales = Gptq.rowScales(weight, ROWS, n, (float) clipSigmas, clipRange);
        float[] sf = new float[ROWS];
        for (int r = 0; r < ROWS; r++) {
            sf[r] = Float.float16ToFloat(scales[r]);
        }
        byte[][] q = new byte[ROWS][n];
        for (int i1 = 0; i1 < n; i1 += Gptq.BLOCK_COLUMNS) {
            int i2 = Math.min(i1 + Gptq.BLOCK_COLUMNS, n);
            float[][] block = new float[ROWS][];
            for (int r = 0; r < ROWS; r++) {
                block[r] = Arrays.copyOfRange(work[r], i1, i2);
            }
            float[][] err = new float[ROWS][i2 - i1];
            for (int j = 0; j < i2 - i1; j++) {
                float d = u[(i1 + j) * n + i1 + j];
                for (int r = 0; r < ROWS; r++) {
                    float w = block[r][j];
                    float code = Math.max(-clipRange, Math.min(clipRange, (float) Math.rint(w / sf[r])));
                    q[r][i1 + j] = (byte) code;
                    err[r][j] = (w - code * sf[r]) / d;
                }
                for (int r = 0; r < ROWS; r++) {
                    for (int c = j; c < i2 - i1; c++) {
                        block[r][c] -= err[r][j] * u[(i1 + j) * n + i1 + c];
                    }
                }
            }
            for (int r = 0; r < ROWS; r++) {
                for (int c = i2; c < n; c++) {
                    float product = 0f;
                    for (int k = 0; k < i2 - i1; k++) {
                        product = Math.fma(err[r][k], u[(i1 + k) * n + c], product);
                    }
                    work[r][c] -= product;
                }
            }
        }
        byte[] out = new byte[ROWS * n];
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < n; j++) {
                out[r * n + perm[j]] = q[r][j];
            }
        }
        return out;
    }
}
