package io.pgolf.gpu.cuda;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;

import java.util.Arrays;

/**
 * Causal grouped-query attention on the GPU for head_dim 64 (the kernels of src/main/cuda/attention.cu), with the
 * semantics of {@link io.pgolf.gpu.LayerOps#attention} and {@link io.pgolf.gpu.LayerOps#attentionBackward}: the
 * forward saves each row's log-sum-exp, the backward recomputes the probabilities from it and adds into dQ, dK, dV.
 */
public final class CudaFlashAttention {
    private static final int HEAD_DIM = 64;
    private static final int TILE = 64;

    private final CudaTensorOps tensors;
    private final KernelModules kernels;

    public CudaFlashAttention(CudaRuntime runtime) {
        this.tensors = runtime.tensors();
        this.kernels = runtime.kernels();
    }

    public void forward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp) {
        requireOperands(q, k, v, shape);
        requireMatrix(out, shape.rows(), shape.heads() * HEAD_DIM, "attention output");
        requireStatistics(logSumExp, shape, "attention log-sum-exp");
        kernels.launch("pg_attention_forward", queryTiles(shape), KernelModules.Dim3.of(TILE), 0,
                KernelArgs.of().tensor(q).tensor(k).tensor(v).tensor(out).pointer(logSumExp)
                        .i32(shape.seqLen()).i32(shape.heads()).i32(shape.kvHeads()).f32(shape.softmaxScale()));
    }

    public void backward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp,
                         Tensor dOut, Tensor dQ, Tensor dK, Tensor dV) {
        requireOperands(q, k, v, shape);
        int qWidth = shape.heads() * HEAD_DIM;
        int kvWidth = shape.kvHeads() * HEAD_DIM;
        requireMatrix(out, shape.rows(), qWidth, "attention output");
        requireStatistics(logSumExp, shape, "attention log-sum-exp");
        requireMatrix(dOut, shape.rows(), qWidth, "attention output gradient");
        requireMatrix(dQ, shape.rows(), qWidth, "attention query gradient");
        requireMatrix(dK, shape.rows(), kvWidth, "attention key gradient");
        requireMatrix(dV, shape.rows(), kvWidth, "attention value gradient");
        long statistics = (long) shape.batch() * shape.heads() * shape.seqLen();
        try (CudaTensor rowDots = tensors.empty(DType.F32, Math.toIntExact(statistics))) {
            kernels.launchElementwise("pg_attention_backward_dot", 32 * statistics,
                    KernelArgs.of().tensor(out).tensor(dOut).pointer(rowDots).i64(statistics)
                            .i32(shape.seqLen()).i32(shape.heads()));
            kernels.launch("pg_attention_backward_dkdv",
                    new KernelModules.Dim3(Math.ceilDiv(shape.seqLen(), TILE), shape.kvHeads(), shape.batch()),
                    KernelModules.Dim3.of(TILE), 0,
                    KernelArgs.of().tensor(q).tensor(k).tensor(v).pointer(logSumExp).pointer(rowDots).tensor(dOut)
                            .tensor(dK).tensor(dV).i32(shape.seqLen()).i32(shape.heads()).i32(shape.kvHeads())
                            .f32(shape.softmaxScale()));
            kernels.launch("pg_attention_backward_dq", queryTiles(shape), KernelModules.Dim3.of(TILE), 0,
                    KernelArgs.of().tensor(q).tensor(k).tensor(v).pointer(logSumExp).pointer(rowDots).tensor(dOut)
                            .tensor(dQ).i32(shape.seqLen()).i32(shape.heads()).i32(shape.kvHeads())
                            .f32(shape.softmaxScale()));
        }
    }

    private static KernelModules.Dim3 queryTiles(AttentionShape shape) {
        return new KernelModules.Dim3(Math.ceilDiv(shape.seqLen(), TILE), shape.heads(), shape.batch());
    }

    private static void requireOperands(Tensor q, Tensor k, Tensor v, AttentionShape shape) {
        if (shape.headDim() != HEAD_DIM) {
            throw new IllegalArgumentException("CUDA attention supports head_dim " + HEAD_DIM + ", got " + shape);
        }
        requireMatrix(q, shape.rows(), shape.heads() * HEAD_DIM, "attention queries");
        requireMatrix(k, shape.rows(), shape.kvHeads() * HEAD_DIM, "attention keys");
        requireMatrix(v, shape.rows(), shape.kvHeads() * HEAD_DIM, "attention values");
    }

    private static void requireMatrix(Tensor t, int rows, int cols, String what) {
        if (t.dtype() == DType.I32 || t.size() != (long) rows * cols || t.dim(-1) != cols) {
            throw new IllegalArgumentException(what + " must be a float [" + rows + ", " + cols + "] matrix, got "
                    + t.describe());
        }
    }

    private static void requireStatistics(Tensor t, AttentionShape shape, String what) {
        long expected = (long) shape.batch() * shape.heads() * shape.seqLen();
        if (t.dtype() != DType.F32 || t.size() != expected) {
            throw new IllegalArgumentException(what + " must be F32 with " + expected + " values (batch "
                    + shape.batch() + " x heads " + shape.heads() + " x seqLen " + shape.seqLen() + "), got "
                    + t.dtype() + Arrays.toString(t.shape()));
        }
    }
}
