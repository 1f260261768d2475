package io.pgolf.gpu;

/**
 * Memory and general arithmetic. Matrices are row-major; a tensor of rank above 2 is viewed as a matrix whose
 * last dimension is the row length. Unless stated otherwise, outputs are overwritten and inputs may not alias
 * outputs.
 */
public interface TensorOps {
    /** A new zero-filled tensor. */
    Tensor zeros(DType dtype, int... shape);

    /**
     * A new tensor whose contents are undefined (anything, NaN included), for an output an operation is about to
     * overwrite: it saves the fill that {@link #zeros} costs on a GPU.
     */
    default Tensor empty(DType dtype, int... shape) {
        return zeros(dtype, shape);
    }

    /** A new float tensor holding {@code values} (converted to {@code dtype}). */
    Tensor upload(DType dtype, float[] values, int... shape);

    /** A new I32 tensor holding {@code values}. */
    Tensor uploadInts(int[] values, int... shape);

    /** The contents as float32, row-major. */
    float[] download(Tensor t);

    int[] downloadInts(Tensor t);

    /** dst = src (same size; dtypes may differ, converting). */
    void copy(Tensor src, Tensor dst);

    void fill(Tensor t, float value);

    /**
     * Rows [dstRow, dstRow + src.rows()) of dst = src, converting: a matrix into a row range of another with the
     * same row length (weights stacked by rows for one GEMM).
     */
    void copyRows(Tensor src, Tensor dst, int dstRow);

    /**
     * dst += rows [srcRow, srcRow + dst.rows()) of src, a matrix with the same row length (a stacked weight
     * gradient's block added into one weight's gradient).
     */
    void addRows(Tensor src, int srcRow, Tensor dst);

    /**
     * c = alpha * op(a) @ op(b) + beta * c, where op(x) is x or its transpose. With beta = 0, c's previous
     * contents are ignored (even NaN). Accumulation is in float32 at least.
     */
    void gemm(boolean transposeA, boolean transposeB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /**
     * {@link #gemm} of every matrix of a stack: a, b and c are of rank 3 with the same first dimension G, and
     * c[i] = alpha * op(a[i]) @ op(b[i]) + beta * c[i] for i &lt; G, with gemm's types and precision (beta = 0
     * ignores c). Newton-Schulz over matrices of one shape.
     */
    void batchedGemm(boolean transposeA, boolean transposeB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /** y = alpha * x + beta * y, elementwise. */
    void axpby(float alpha, Tensor x, float beta, Tensor y);

    /** out = a + b, elementwise; out may alias a or b. */
    void add(Tensor a, Tensor b, Tensor out);

    /** t *= alpha. */
    void scale(Tensor t, float alpha);

    /** dst [n, m] = src [m, n] transposed. */
    void transpose(Tensor src, Tensor dst);

    /**
     * Rounds every element to the nearest bfloat16 ({@link Bfloat16#round}), keeping the tensor's dtype; a BF16
     * tensor is left as it is. A backend that stores only float32 reproduces bfloat16 arithmetic this way: an
     * operation computed in float32 and rounded equals the same operation on BF16 tensors.
     */
    void roundToBfloat16(Tensor t);

    /** The sum of squares of all elements, accumulated in float64. Waits for the result. */
    double sumOfSquares(Tensor t);
}
