package io.pgolf.gpu.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row-major float32 matrix product out = alpha * left @ right + beta * out with SIMD fused multiply-adds: each
 * task keeps a block of 4 rows x 2 vectors of out in registers while it walks the shared dimension, so every
 * loaded vector of {@code right} feeds 4 FMAs. Column strips of {@code right} (k x 2 vectors) stay in cache across
 * the row blocks of a task. Accumulation is float32 in the order of the shared dimension.
 */
final class CpuGemm {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final int STRIP = 2 * LANES;
    private static final int ROWS = 4;

    private CpuGemm() {
    }

    /** Computes rows [from, to) of out [m, n] from left [m, k] and right [k, n]. */
    static void multiplyRows(float[] left, float[] right, float[] out, int from, int to, int k, int n,
                             float alpha, float beta) {
        for (int j = 0; j < n; j += STRIP) {
            int width = Math.min(STRIP, n - j);
            VectorMask<Float> mask0 = SPECIES.indexInRange(0, width);
            VectorMask<Float> mask1 = SPECIES.indexInRange(LANES, width);
            int i = from;
            for (; i + ROWS <= to; i += ROWS) {
                fourRows(left, right, out, i, j, k, n, alpha, beta, mask0, mask1);
            }
            for (; i < to; i++) {
                oneRow(left, right, out, i, j, k, n, alpha, beta, mask0, mask1);
            }
        }
    }

    private static void fourRows(float[] left, float[] right, float[] out, int i, int j, int k, int n, float alpha,
                                 float beta, VectorMask<Float> mask0, VectorMask<Float> mask1) {
        FloatVector c00 = FloatVector.zero(SPECIES);
        FloatVector c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES);
        FloatVector c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES);
        FloatVector c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES);
        FloatVector c31 = FloatVector.zero(SPECIES);
        int r0 = i * k;
        int r1 = r0 + k;
        int r2 = r1 + k;
        int r3 = r2 + k;
        boolean full = mask1.allTrue();
        for (int p = 0; p < k; p++) {
            int at = p * n + j;
            FloatVector b0;
            FloatVector b1;
            if (full) {
                b0 = FloatVector.fromArray(SPECIES, right, at);
                b1 = FloatVector.fromArray(SPECIES, right, at + LANES);
            } else {
                b0 = FloatVector.fromArray(SPECIES, right, at, mask0);
                b1 = FloatVector.fromArray(SPECIES, right, at + LANES, mask1);
            }
            FloatVector a = FloatVector.broadcast(SPECIES, left[r0 + p]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(SPECIES, left[r1 + p]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(SPECIES, left[r2 + p]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(SPECIES, left[r3 + p]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
        }
        store(c00, c01, out, i * n + j, alpha, beta, mask0, mask1);
        store(c10, c11, out, (i + 1) * n + j, alpha, beta, mask0, mask1);
        store(c20, c21, out, (i + 2) * n + j, alpha, beta, mask0, mask1);
        store(c30, c31, out, (i + 3) * n + j, alpha, beta, mask0, mask1);
    }

    private static void oneRow(float[] left, float[] right, float[] out, int i, int j, int k, int n, float alpha,
                               float beta, VectorMask<Float> mask0, VectorMask<Float> mask1) {
        FloatVector c0 = FloatVector.zero(SPECIES);
        FloatVector c1 = FloatVector.zero(SPECIES);
        int r = i * k;
        for (int p = 0; p < k; p++) {
            int at = p * n + j;
            FloatVector a = FloatVector.broadcast(SPECIES, left[r + p]);
            c0 = a.fma(FloatVector.fromArray(SPECIES, right, at, mask0), c0);
            c1 = a.fma(FloatVector.fromArray(SPECIES, right, at + LANES, mask1), c1);
        }
        store(c0, c1, out, i * n + j, alpha, beta, mask0, mask1);
    }

    private static void store(FloatVector c0, FloatVector c1, float[] out, int at, float alpha, float beta,
                              VectorMask<Float> mask0, VectorMask<Float> mask1) {
        FloatVector v0 = c0.mul(alpha);
        FloatVector v1 = c1.mul(alpha);
        if (beta != 0f) {
            v0 = FloatVector.fromArray(SPECIES, out, at, mask0).mul(beta).add(v0);
            v1 = FloatVector.fromArray(SPECIES, out, at + LANES, mask1).mul(beta).add(v1);
        }
        v0.intoArray(out, at, mask0);
        v1.intoArray(out, at + LANES, mask1);
    }
}
