package io.pgolf.gpu.cpu;

import io.pgolf.gpu.DType;
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

    /**
     * Requires {@code block}'s rows to be rows [firstRow, firstRow + block.rows()) of {@code whole}, a float matrix
     * with the same row length: the operands of copyRows and addRows.
     */
    static void requireRowBlock(Tensor block, Tensor whole, int firstRow, String op) {
        if (block.dtype() == DType.I32 || whole.dtype() == DType.I32 || block.dim(-1) != whole.dim(-1)
                || firstRow < 0 || (long) firstRow + block.rows() > whole.rows()) {
            throw new IllegalArgumentException(op + ": " + block.describe() + " is not a float row block of "
                    + whole.describe() + " from row " + firstRow);
        }
    }
}
