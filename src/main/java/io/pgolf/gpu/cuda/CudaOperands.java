package io.pgolf.gpu.cuda;

import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;

/**
 * The operand checks of the CUDA operations, run before a launch: a kernel given a wrong shape or type would read or
 * write out of bounds, or reinterpret bits, instead of failing with the operand's name.
 */
final class CudaOperands {
    private CudaOperands() {
    }

    /** Requires a float (F32 or BF16) matrix of rows x cols (any rank; the last dimension is the row length). */
    static void requireMatrix(Tensor t, int rows, int cols, String what) {
        requireFloat(t, what);
        if (t.dim(-1) != cols || t.size() != (long) rows * cols) {
            throw new IllegalArgumentException(what + " must be " + rows + " x " + cols + ", got " + t.describe());
        }
    }

    /** Requires a float tensor of {@code size} values. */
    static void requireFloats(Tensor t, long size, String what) {
        requireFloat(t, what);
        if (t.size() != size) {
            throw new IllegalArgumentException(what + " must hold " + size + " values, got " + t.describe());
        }
    }

    /** Requires an F32 tensor of {@code size} values: saved statistics, optimizer state, float32-only outputs. */
    static void requireF32(Tensor t, long size, String what) {
        requireType(t, DType.F32, what);
        if (t.size() != size) {
            throw new IllegalArgumentException(what + " must hold " + size + " values, got " + t.describe());
        }
    }

    static void requireFloat(Tensor t, String what) {
        if (t.dtype() == DType.I32) {
            throw new IllegalArgumentException(what + " must be F32 or BF16, got " + t.describe());
        }
    }

    static void requireType(Tensor t, DType dtype, String what) {
        if (t.dtype() != dtype) {
            throw new IllegalArgumentException(what + " must be " + dtype + ", got " + t.describe());
        }
    }
}
