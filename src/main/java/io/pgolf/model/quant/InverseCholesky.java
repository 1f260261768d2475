package io.pgolf.model.quant;

import java.util.Arrays;

/**
 * The factor GPTQ propagates errors with: the upper-triangular U with U^T U = H^-1 of a symmetric positive definite
 * H, computed as the reference does (R = cholesky(H), H^-1 = cholesky_inverse(R), U = cholesky(H^-1, upper)) but in
 * float64. The reference runs these steps through LAPACK in float32, whose rounding depends on the library's
 * blocking; float64 keeps the factor within float32 rounding of the exact one, the only target that does not
 * depend on the library. Matrices are n x n, row-major; only upper triangles are read and written.
 *
 * <p>Every step is a sequence of row updates y += a x. They run in panels of {@link #PANEL} rows so that the rows
 * being read stay in cache while the rows they update stream past once per panel rather than once per row.
 */
final class InverseCholesky {
    private static final int PANEL = 32;

    private InverseCholesky() {
    }

    /** U as float32 (what the reference's float32 loop multiplies with), its lower triangle zero. */
    static float[] upperFactorOfInverse(double[] h, int n) {
        double[] a = h.clone();
        factorUpper(a, n);
        double[] inverse = inverseFromFactor(a, n);
        factorUpper(inverse, n);
        float[] u = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                u[i * n + j] = (float) inverse[i * n + j];
            }
        }
        return u;
    }

    /**
     * In place: the upper triangle of {@code a} becomes R with R^T R = a. Row k of R is row k of the updated matrix
     * divided by its pivot's root, and every later row i loses R_ki times it; each row receives these updates in
     * increasing k, panel by panel. The lower triangle is left as it was.
     */
    static void factorUpper(double[] a, int n) {
        for (int k0 = 0; k0 < n; k0 += PANEL) {
            int k1 = Math.min(k0 + PANEL, n);
            for (int k = k0; k < k1; k++) {
                scaleRow(a, n, k);
                for (int i = k + 1; i < k1; i++) {
                    VectorKernels.fusedAxpy(-a[k * n + i], a, k * n + i, a, i * n + i, n - i);
                }
            }
            for (int i = k1; i < n; i++) {
                for (int k = k0; k < k1; k++) {
                    VectorKernels.fusedAxpy(-a[k * n + i], a, k * n + i, a, i * n + i, n - i);
                }
            }
        }
    }

    private static void scaleRow(double[] a, int n, int k) {
        double pivot = a[k * n + k];
        if (!(pivot > 0)) {
            throw new ArithmeticException("matrix is not positive definite: pivot " + k + " is " + pivot);
        }
        double r = Math.sqrt(pivot);
        a[k * n + k] = r;
        for (int j = k + 1; j < n; j++) {
            a[k * n + j] /= r;
        }
    }

    /** The upper triangle of R^-1 R^-T = (R^T R)^-1 from R in the upper triangle of {@code r}. */
    static double[] inverseFromFactor(double[] r, int n) {
        double[] x = inverseOfUpper(r, n);
        // (X X^T)_ij = sum_{k >= j} X_ik X_jk for j >= i, taken through X^T's rows so that updates are contiguous.
        double[] xt = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                xt[j * n + i] = x[i * n + j];
            }
        }
        double[] inverse = new double[n * n];
        for (int i0 = 0; i0 < n; i0 += PANEL) {
            int i1 = Math.min(i0 + PANEL, n);
            for (int k = i0; k < n; k++) {
                for (int i = i0; i < Math.min(i1, k + 1); i++) {
                    VectorKernels.fusedAxpy(x[i * n + k], xt, k * n + i, inverse, i * n + i, k - i + 1);
                }
            }
        }
        return inverse;
    }

    /**
     * X = R^-1 for upper-triangular R, by back substitution: X_i = (e_i - sum_{k > i} R_ik X_k) / R_ii, a panel of
     * rows i at a time, first from the finished rows below the panel, then from the panel's own rows, last first.
     */
    static double[] inverseOfUpper(double[] r, int n) {
        double[] x = new double[n * n];
        double[] sums = new double[PANEL * n];
        for (int i1 = n; i1 > 0; i1 -= PANEL) {
            int i0 = Math.max(0, i1 - PANEL);
            Arrays.fill(sums, 0.0);
            for (int k = i1; k < n; k++) {
                for (int i = i0; i < i1; i++) {
                    VectorKernels.fusedAxpy(r[i * n + k], x, k * n + k, sums, (i - i0) * n + k, n - k);
                }
            }
            for (int i = i1 - 1; i >= i0; i--) {
                int sum = (i - i0) * n;
                for (int k = i + 1; k < i1; k++) {
                    VectorKernels.fusedAxpy(r[i * n + k], x, k * n + k, sums, sum + k, n - k);
                }
                double diagonal = r[i * n + i];
                x[i * n + i] = 1.0 / diagonal;
                for (int j = i + 1; j < n; j++) {
                    x[i * n + j] = -sums[sum + j] / diagonal;
                }
            }
        }
        return x;
    }
}
