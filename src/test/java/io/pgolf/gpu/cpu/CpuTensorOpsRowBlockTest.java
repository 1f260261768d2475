package io.pgolf.gpu.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** copyRows and addRows: a row block of a matrix written or read, the other rows untouched. */
class CpuTensorOpsRowBlockTest {
    private CpuBackend backend;
    private TensorOps ops;

    @BeforeEach
    void open() {
        backend = new CpuBackend(2);
        ops = backend.tensors();
    }

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void copyRowsWritesTheBlockAndLeavesTheOtherRows() {
        try (Tensor dst = ops.upload(DType.F32, new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 4, 2);
             Tensor src = ops.upload(DType.F32, new float[] {-1, -2, -3, -4}, 2, 2)) {
            ops.copyRows(src, dst, 1);
            assertArrayEquals(new float[] {1, 2, -1, -2, -3, -4, 7, 8}, ops.download(dst));
        }
    }

    @Test
    void addRowsAddsTheBlockOfTheSource() {
        try (Tensor src = ops.upload(DType.F32, new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 4, 2);
             Tensor dst = ops.upload(DType.F32, new float[] {10, 20, 30, 40}, 2, 2)) {
            ops.addRows(src, 2, dst);
            assertArrayEquals(new float[] {15, 26, 37, 48}, ops.download(dst));
        }
    }

    @Test
    void blocksMustFitInsideAMatrixOfTheSameRowLength() {
        try (Tensor whole = ops.zeros(DType.F32, 4, 2);
             Tensor block = ops.zeros(DType.F32, 2, 2);
             Tensor wide = ops.zeros(DType.F32, 2, 3)) {
            assertThrows(IllegalArgumentException.class, () -> ops.copyRows(block, whole, 3));
            assertThrows(IllegalArgumentException.class, () -> ops.copyRows(wide, whole, 0));
            assertThrows(IllegalArgumentException.class, () -> ops.addRows(whole, -1, block));
            assertThrows(IllegalArgumentException.class, () -> ops.addRows(whole, 3, block));
        }
    }
}
