package io.pgolf.model.quant;

import java.util.Arrays;

/**
 * The factor GPTQ propagates errors with: the upper-triangular U with U^T U = H^-1 of a symmetric positive definite
 * H, computed as the reference does (R = cholesky(H), H^-1 = cholesky_inverse(R), U = cholesky(H^-1, upper)) but in
 * float64. The reference runs these steps through LAPACK in float32, whose rounding depends on the library's
 * blocking; float64 keeps the factor within float32 rounding of the exact one, the only target that does not
 * depend on the library. Matrices are n x n, row-major; only upper triangles are read and written.
 */
final class InverseCholesky {
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
     * In place: the upper triangle of {@code a} becomes R with R^T R = a (right-looking: row k of R, then the
     * trailing rows lose its outer product). The lower triangle is left as it was.
     */
    static void factorUpper(double[] a, int n) {
        for (int k = 0; k < n; k++) {
            double pivot = a[k * n + k];
            if (!(pivot > 0)) {
                throw new ArithmeticException("matrix is not positive definite: pivot " + k + " is " + pivot);
            }
            double r = Math.sqrt(pivot);
            int rowK = k * n;
            a[rowK + k] = r;
            for (int j = k + 1; j < n; j++) {
                a[rowK + j] /= r;
            }
            for (int i = k + 1; i < n; i++) {
                double f = a[rowK + i];
                int rowI = i * n;
                for (int j = i; j < n; j++) {
                    a[rowI + j] -= f * a[rowK + j];
                }
            }
        }
    }

    /** The upper triangle of R^-1 R^-T = (R^T R)^-1 from R in the upper triangle of {@code r}. */
    static double[] inverseFromFactor(double[] r, int n) {
        // X = R^-1 (upper) by back substitution, row i from the rows below it: X_i = -(1/R_ii) sum_k R_ik X_k.
        double[] x = new double[n * n];
        double[] acc = new double[n];
        for (int i = n - 1; i >= 0; i--) {
            Arrays.fill(acc, i, n, 0.0);
            for (int k = i + 1; k < n; k++) {
                double f = r[i * n + k];
                int rowK = k * n;
                for (int j = k; j < n; j++) {
                    acc[j] += f * x[rowK + j];
                }
            }
            double diagonal = r[i * n + i];
            x[i * n + i] = 1.0 / diagonal;
            for (int j = i + 1; j < n; j++) {
                x[i * n + j] = -acc[j] / diagonal;
            }
        }
        // (X X^T)_ij = sum_{k >= j} X_ik X_jk for j >= i; through X^T's rows so that the inner loop is contiguous.
        double[] xt = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                xt[j * n + i] = x[i * n + j];
            }
        }
        double[] inverse = new double[n * n];
        for (int i = 0; i < n; i++) {
            int rowI = i * n;
            for (int k = i; k < n; k++) {
                double f = x[rowI + k];
                int rowK = k * n;
                for (int j = i; j <= k; j++) {
                    inverse[rowI + j] += f * xt[rowK + j];
                }
            }
        }
        return inverse;
    }
}
