package io.pgolf.gpu.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** A GEMM problem is keyed in cuBLAS's column-major terms and described as the row-major call that poses it. */
class GemmProblemTest {

    @Test
    void aLinearLayerIsDescribedAsItsTensorOpsCall() {
        // y [98304, 256] = x [98304, 512] w^T, w [256, 512]: CudaTensorOps asks cuBLAS for y^T = w x^T.
        GemmProblem forward = new GemmProblem(true, false, 256, 98_304, 512, 512, 512, 256, CublasLt.CUDA_R_16BF,
                CublasLt.CUDA_R_16BF, true);
        assertEquals("98304x256x512 NT BF16,BF16->BF16 beta 0", forward.describe());
        // dW [512, 512] += dy^T x with dy, x [98304, 512]: cuBLAS gets dW^T = x^T dy.
        GemmProblem weightGradient = new GemmProblem(false, true, 512, 512, 98_304, 512, 512, 512,
                CublasLt.CUDA_R_16BF, CublasLt.CUDA_R_32F, false);
        assertEquals("512x512x98304 TN BF16,BF16->F32 beta 1", weightGradient.describe());
    }

    @Test
    void theBytesOfCAreItsColumnsUpToTheLastElement() {
        GemmProblem packed = new GemmProblem(false, true, 512, 512, 98_304, 512, 512, 512, CublasLt.CUDA_R_16BF,
                CublasLt.CUDA_R_32F, false);
        assertEquals(512L * 512 * Float.BYTES, packed.cBytes());
        GemmProblem padded = new GemmProblem(false, false, 3, 2, 4, 3, 4, 5, CublasLt.CUDA_R_16BF,
                CublasLt.CUDA_R_16BF, false);
        assertEquals((5 + 3) * 2, padded.cBytes());
    }

    @Test
    void aStridedBatchIsCountedInFrontAndCoversItsLastProduct() {
        // Y_i [512, 2048] = B_i [512, 512] X_i [512, 2048] for 11 matrices: cuBLAS gets Y_i^T = X_i^T B_i^T.
        GemmProblem batched = new GemmProblem(false, false, 2048, 512, 512, 2048, 512, 2048, CublasLt.CUDA_R_16BF,
                CublasLt.CUDA_R_16BF, true, 11, 512L * 2048, 512L * 512, 512L * 2048);
        assertEquals("11 x 512x2048x512 NN BF16,BF16->BF16 beta 0", batched.describe());
        assertEquals(11L * 512 * 2048 * 2, batched.cBytes());
        assertNotEquals(batched, new GemmProblem(false, false, 2048, 512, 512, 2048, 512, 2048, CublasLt.CUDA_R_16BF,
                CublasLt.CUDA_R_16BF, true));
    }

    @Test
    void callsWithAndWithoutBetaArePlannedApart() {
        GemmProblem overwrite = new GemmProblem(false, false, 512, 98_304, 256, 512, 256, 512, CublasLt.CUDA_R_16BF,
                CublasLt.CUDA_R_16BF, true);
        GemmProblem accumulate = new GemmProblem(false, false, 512, 98_304, 256, 512, 256, 512, CublasLt.CUDA_R_16BF,
                CublasLt.CUDA_R_16BF, false);
        assertNotEquals(overwrite, accumulate);
        assertEquals(overwrite, new GemmProblem(false, false, 512, 98_304, 256, 512, 256, 512, CublasLt.CUDA_R_16BF,
                CublasLt.CUDA_R_16BF, true));
    }
}
