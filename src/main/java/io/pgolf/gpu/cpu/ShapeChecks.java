package io.pgolf.gpu.cpu;

import io.pgolf.gpu.Tensor;

/** Argument checks of the CPU operations, failing with the operand's name and shape before any work starts. */
final class ShapeChecks {
    private ShapeChecks() {
    }

    /** Requires t to be a matrix of rows x cols (any rank; the last dimension is the row length). */
    static void requireMatrix(Tensor t, int rows, int cols, String what) {
        if (t.dim(-1) != cols || t.rows() != rows) {
            throw new IllegalArgumentException(what + " must be " + rows + " x " + cols + ", got " + t.describe());
        }
    }

    /** Requires t to hold exactly size values. */
    static void requireSize(Tensor t, long size, String what) {
        if (t.size() != size) {
            throw new IllegalArgumentException(what + " must hold " + size + " values, got " + t.describe());
        }
    }

    /** Requires every index to lie in [0, bound): token ids, targets. */
    static void requireIndices(int[] indices, int bound, String what) {
        for (int n = 0; n < indices.length; n++) {
            if (indices[n] < 0 || indices[n] >= bound) {
                throw new IllegalArgumentException(what + " at row " + n + " is " + indices[n]
                        + ", outside [0, " + bound + ")");
            }
        }
    }
}
