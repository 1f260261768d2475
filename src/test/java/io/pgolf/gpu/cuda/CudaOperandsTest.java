package io.pgolf.gpu.cuda;

import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The checks every CUDA operation runs before a launch, on tensors of any backend (they read only shape and type). */
class CudaOperandsTest {

    @Test
    void aMatrixMustBeFloatAndOfTheGivenShape() {
        try (CpuBackend cpu = new CpuBackend(1); Tensor m = cpu.tensors().zeros(DType.F32, 2, 3, 4);
             Tensor ids = cpu.tensors().zeros(DType.I32, 6, 4)) {
            assertDoesNotThrow(() -> CudaOperands.requireMatrix(m, 6, 4, "x"));
            assertEquals("x must be 4 x 6, got F32[2, 3, 4]", assertThrows(IllegalArgumentException.class,
                    () -> CudaOperands.requireMatrix(m, 4, 6, "x")).getMessage());
            assertEquals("ids must be F32 or BF16, got I32[6, 4]", assertThrows(IllegalArgumentException.class,
                    () -> CudaOperands.requireMatrix(ids, 6, 4, "ids")).getMessage());
        }
    }

    @Test
    void float32OperandsMustBeF32AndOfTheGivenSize() {
        try (CpuBackend cpu = new CpuBackend(1); Tensor state = cpu.tensors().zeros(DType.F32, 8);
             Tensor ids = cpu.tensors().zeros(DType.I32, 8)) {
            assertDoesNotThrow(() -> CudaOperands.requireF32(state, 8, "momentum"));
            assertEquals("momentum must hold 9 values, got F32[8]", assertThrows(IllegalArgumentException.class,
                    () -> CudaOperands.requireF32(state, 9, "momentum")).getMessage());
            assertEquals("momentum must be F32, got I32[8]", assertThrows(IllegalArgumentException.class,
                    () -> CudaOperands.requireF32(ids, 8, "momentum")).getMessage());
            assertEquals("g must hold 9 values, got F32[8]", assertThrows(IllegalArgumentException.class,
                    () -> CudaOperands.requireFloats(state, 9, "g")).getMessage());
        }
    }
}
