package io.pgolf.gpu;

/**
 * The sizes of a {@link TensorOps#batchedGemm}: {@code count} products of op(a[i]) [m, k] by op(b[i]) [k, n] into
 * c[i] [m, n], each operand a stack of rank 3 whose first dimension is the matrix.
 */
public record BatchedGemmShape(int count, int m, int n, int k) {
    /**
     * The shape of the product, checked: three stacks of one count whose matrices fit.
     *
     * @throws IllegalArgumentException naming the operands when they do not fit
     */
    public static BatchedGemmShape of(boolean transposeA, boolean transposeB, Tensor a, Tensor b, Tensor c) {
        if (a.rank() != 3 || b.rank() != 3 || c.rank() != 3 || b.dim(0) != a.dim(0) || c.dim(0) != a.dim(0)) {
            throw new IllegalArgumentException("a batched gemm takes three stacks [count, rows, cols] of one count, got a "
                    + a.describe() + ", b " + b.describe() + ", c " + c.describe());
        }
        int m = transposeA ? a.dim(2) : a.dim(1);
        int k = transposeA ? a.dim(1) : a.dim(2);
        int kb = transposeB ? b.dim(2) : b.dim(1);
        int n = transposeB ? b.dim(1) : b.dim(2);
        if (k != kb || c.dim(1) != m || c.dim(2) != n) {
            throw new IllegalArgumentException("batched gemm shapes do not fit: op(a) of " + a.describe()
                    + (transposeA ? "^T" : "") + ", op(b) of " + b.describe() + (transposeB ? "^T" : "") + ", c "
                    + c.describe());
        }
        return new BatchedGemmShape(a.dim(0), m, n, k);
    }
}
