package io.pgolf.gpu.cuda;

import java.util.Locale;

/**
 * What a GEMM call asks of cuBLASLt, in its column-major terms: C (m x n) = alpha op(A) op(B) + beta C with inner
 * size k, the leading dimensions, the type of A and B and that of C (cudaDataType), and whether beta is zero (an
 * algorithm that need not read C may win then); a strided batch makes {@code batch} such products, the i-th from
 * A + i strideA, B + i strideB into C + i strideC (strides in elements). Calls that pose the same problem share
 * descriptors and algorithm.
 */
record GemmProblem(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc, int abType,
                   int cType, boolean betaZero, int batch, long strideA, long strideB, long strideC) {

    /** One product. */
    GemmProblem(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc, int abType, int cType,
                boolean betaZero) {
        this(transA, transB, m, n, k, lda, ldb, ldc, abType, cType, betaZero, 1, 0, 0, 0);
    }

    /**
     * The problem as the row-major TensorOps call that {@link CudaTensorOps#gemm} maps onto it (C^T = op(B)^T
     * op(A)^T, so rows and columns and the two operands swap), in the notation of the benchmark's breakdown:
     * "98304x512x256 NN BF16,BF16->BF16 beta 1" for C [98304, 512] += A [98304, 256] B [256, 512]; a batch is
     * counted in front, "11 x 512x512x512 NN BF16,BF16->BF16 beta 0".
     */
    String describe() {
        return String.format(Locale.ROOT, "%s%dx%dx%d %s%s %s,%s->%s beta %s", batch == 1 ? "" : batch + " x ", n, m,
                k, transB ? "T" : "N", transA ? "T" : "N", typeName(abType), typeName(abType), typeName(cType),
                betaZero ? "0" : "1");
    }

    /** The figures cuBLASLt sees, for error messages: "column-major m 512, n 98304, k 256, lda 512, ...". */
    String columnMajor() {
        return String.format(Locale.ROOT, "column-major m %d, n %d, k %d, lda %d, ldb %d, ldc %d", m, n, k, lda, ldb,
                ldc);
    }

    /**
     * The bytes of C that the products cover: n columns of ldc elements, the last one m long, from the last
     * product's start.
     */
    long cBytes() {
        long elements = strideC * (batch - 1) + (long) ldc * (n - 1) + m;
        return elements * (cType == CublasLt.CUDA_R_32F ? Float.BYTES : 2);
    }

    private static String typeName(int cudaDataType) {
        return switch (cudaDataType) {
            case CublasLt.CUDA_R_32F -> "F32";
            case CublasLt.CUDA_R_16BF -> "BF16";
            default -> "cudaDataType " + cudaDataType;
        };
    }
}
