package io.pgolf.model;

import java.util.random.RandomGenerator;

/**
 * Random orthogonal matrices as torch's nn.init.orthogonal_ makes them: a standard Gaussian matrix, taken tall
 * (transposed when it has fewer rows than columns), QR-factorized with R's diagonal made positive, Q transposed back.
 * Gram-Schmidt on the columns yields exactly that Q (its R has a positive diagonal by construction); it runs in
 * float64 and is rounded once.
 */
final class Orthogonal {
    private Orthogonal() {
    }

    /** A rows x cols matrix, row-major, with orthonormal columns (rows >= cols) or orthonormal rows. */
    static float[] matrix(int rows, int cols, RandomGenerator rng) {
        boolean transposed = rows < cols;
        int tall = transposed ? cols : rows;
        int wide = transposed ? rows : cols;
        // columns[j] is column j of the tall Gaussian matrix.
        double[][] columns = new double[wide][tall];
        for (int i = 0; i < tall; i++) {
            for (int j = 0; j < wide; j++) {
                columns[j][i] = rng.nextGaussian();
            }
        }
        for (int j = 0; j < wide; j++) {
            double[] q = columns[j];
            for (int p = 0; p < j; p++) {
                double[] e = columns[p];
                double dot = 0;
                for (int i = 0; i < tall; i++) {
                    dot += e[i] * q[i];
                }
                for (int i = 0; i < tall; i++) {
                    q[i] -= dot * e[i];
                }
            }
            double norm = 0;
            for (double v : q) {
                norm += v * v;
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < tall; i++) {
                q[i] /= norm;
            }
        }
        float[] out = new float[rows * cols];
        for (int i = 0; i < tall; i++) {
            for (int j = 0; j < wide; j++) {
                float v = (float) columns[j][i];
                if (transposed) {
                    out[j * cols + i] = v;
                } else {
                    out[i * cols + j] = v;
                }
            }
        }
        return out;
    }
}
