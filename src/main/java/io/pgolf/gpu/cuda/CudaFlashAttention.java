package io.pgolf.gpu.cuda;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;


import static io.pgolf.gpu.cuda.CudaOperands.requireF32;
import static io.pgolf.gpu.cuda.CudaOperands.requireMatrix;

/**
 * Causal grouped-query flash attention on the GPU (the bf16 tensor-core kernels of src/main/cuda/attention.cu), with
 * the semantics of {@link io.pgolf.gpu.LayerOps#attention} and {@link io.pgolf.gpu.LayerOps#attentionBackward}: the
 * forward saves each row's log-sum-exp, the backward recomputes the probabilities from it and adds into dQ, dK, dV in
 * their own types, deterministically. XSA, where asked for, is fused in: the forward's epilogue applies it to the
 * output rows before storing them, and the backward's preprocessing takes the output gradient back through it. Built for head_dim 64; a smaller head_dim (a multiple of 8) runs padded to 64.
 *
 * <p>The kernels read q, k, v and dOut as bfloat16, as torch's autocast feeds its flash attention; a float32 operand
 * is rounded into a bf16 scratch copy first. out, dQ, dK and dV may be either float type.
 */
public final class CudaFlashAttention {
    private static final int MAX_HEAD_DIM = 64;
    /** Query (or, in the dK/dV pass, key) rows per block: two warpgroups of 64 (see attention.cu). */
    private static final int BLOCK_ROWS = 128;
    private static final KernelModules.Dim3 BLOCK = KernelModules.Dim3.of(256);
    /** Bytes of a shared-memory tile: 64 bf16 rows of 64 dims. */
    private static final int TILE_BYTES = 64 * 64 * 2;
    /** Buffers of the streamed tiles (PG_ATT_STAGES). */
    private static final int STAGES = 3;
    /**
     * Dynamic shared memory of the forward: 1024 bytes of slack to align the tiles for the tensor cores, two tiles for
     * the block's queries, {@link #STAGES} buffers of one tile of keys and one of values.
     */
    private static final int FORWARD_SHARED_BYTES = 1024 + (2 + 2 * STAGES) * TILE_BYTES;
    /**
     * Dynamic shared memory of the dQ pass: the slack, two tiles each of the block's queries and output gradients,
     * the key and value buffers.
     */
    private static final int DQ_SHARED_BYTES = 1024 + (4 + 2 * STAGES) * TILE_BYTES;
    /** The dK/dV pass's block: a producer warpgroup and two consumer warpgroups (PG_ATT_DKDV_THREADS). */
    private static final KernelModules.Dim3 DKDV_BLOCK = KernelModules.Dim3.of(384);
    /** Buffers of the dK/dV pass's streamed query and output-gradient tiles (PG_ATT_DKDV_STAGES). */
    private static final int DKDV_STAGES = 5;
    /**
     * Dynamic shared memory of the dK/dV pass: the slack, two tiles each of the block's keys and values, the query and
     * output-gradient buffers, each buffer's float32 statistics (lse and D of its 64 rows), and two 8-byte barriers per
     * buffer.
     */
    private static final int DKDV_SHARED_BYTES = 1024 + (4 + 2 * DKDV_STAGES) * TILE_BYTES + DKDV_STAGES * 2 * 64 * 4
            + DKDV_STAGES * 2 * 8;

    private final CudaTensorOps tensors;
    private final KernelModules kernels;

    public CudaFlashAttention(CudaRuntime runtime) {
        this.tensors = runtime.tensors();
        this.kernels = runtime.kernels();
    }

    public void forward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp,
                        Tensor xsaProjections) {
        requireOperands(q, k, v, shape);
        requireMatrix(out, shape.rows(), shape.heads() * shape.headDim(), "attention output");
        requireF32(logSumExp, statistics(shape), "attention log-sum-exp (batch x heads x seqLen)");
        requireProjections(xsaProjections, shape);
        try (Bfloat16Operand q16 = asBfloat16(q); Bfloat16Operand k16 = asBfloat16(k);
             Bfloat16Operand v16 = asBfloat16(v)) {
            KernelArgs args = KernelArgs.of().pointer(q16.tensor()).pointer(k16.tensor()).pointer(v16.tensor())
                    .tensor(out).pointer(logSumExp);
            kernels.launch("pg_attention_forward", pairedBlocks(shape), BLOCK, FORWARD_SHARED_BYTES,
                    geometry(pointerOrNull(args, xsaProjections), shape));
        }
    }

    public void backward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp,
                         Tensor xsaProjections, Tensor dOut, Tensor dQ, Tensor dK, Tensor dV) {
        requireOperands(q, k, v, shape);
        int qWidth = shape.heads() * shape.headDim();
        int kvWidth = shape.kvHeads() * shape.headDim();
        requireMatrix(out, shape.rows(), qWidth, "attention output");
        requireF32(logSumExp, statistics(shape), "attention log-sum-exp (batch x heads x seqLen)");
        requireProjections(xsaProjections, shape);
        requireMatrix(dOut, shape.rows(), qWidth, "attention output gradient");
        requireMatrix(dQ, shape.rows(), qWidth, "attention query gradient");
        requireMatrix(dK, shape.rows(), kvWidth, "attention key gradient");
        requireMatrix(dV, shape.rows(), kvWidth, "attention value gradient");
        long statistics = statistics(shape);
        try (Bfloat16Operand q16 = asBfloat16(q); Bfloat16Operand k16 = asBfloat16(k);
             Bfloat16Operand v16 = asBfloat16(v);
             Bfloat16Operand dY16 = xsaProjections == null ? bfloat16Scratch(dOut)
                     : new Bfloat16Operand(tensors.empty(DType.BF16, shape.rows(), qWidth), true);
             CudaTensor rowDots = tensors.empty(DType.F32, Math.toIntExact(statistics))) {
            if (xsaProjections == null) {
                // D = rowsum(dOut * out) from dOut rounded to bf16 as the products take it (the same pass writes
                // that copy of a float32 dOut), so that each row's sum over keys of P (dP - D) stays 0 up to rounding.
                kernels.launchElementwise("pg_attention_backward_dot", 8 * statistics,
                        KernelArgs.of().tensor(out).tensor(dOut).pointer(dY16.tensor()).pointer(rowDots)
                                .i64(statistics).i32(shape.seqLen()).i32(shape.heads()).i32(shape.headDim()));
            } else {
                // XSA's backward first: the attention output's gradient dY (rounded, as the products take it), D
                // from it and the rebuilt output, and XSA's part of dV.
                long units = (long) shape.rows() * shape.kvHeads();
                kernels.launchElementwise("pg_attention_backward_xsa_dot", 8 * units,
                        KernelArgs.of().tensor(out).pointer(xsaProjections).pointer(v16.tensor()).tensor(dOut)
                                .pointer(dY16.tensor()).pointer(rowDots).accumulating(dV).i64(units)
                                .i32(shape.seqLen()).i32(shape.heads()).i32(shape.kvHeads()).i32(shape.headDim()));
            }
            kernels.launch("pg_attention_backward_dkdv", blocks(shape, shape.kvHeads()), DKDV_BLOCK,
                    DKDV_SHARED_BYTES,
                    geometry(KernelArgs.of().pointer(q16.tensor()).pointer(k16.tensor()).pointer(v16.tensor())
                            .pointer(logSumExp).pointer(rowDots).pointer(dY16.tensor()).accumulating(dK)
                            .accumulating(dV), shape));
            kernels.launch("pg_attention_backward_dq", blocks(shape, shape.heads()), BLOCK, DQ_SHARED_BYTES,
                    geometry(KernelArgs.of().pointer(q16.tensor()).pointer(k16.tensor()).pointer(v16.tensor())
                            .pointer(logSumExp).pointer(rowDots).pointer(dY16.tensor()).accumulating(dQ),
                            shape));
        }
    }

    /** The address of an optional float32 operand, or a null address. */
    private static KernelArgs pointerOrNull(KernelArgs args, Tensor t) {
        return t == null ? args.address(0) : args.pointer(t);
    }

    private static void requireProjections(Tensor xsaProjections, AttentionShape shape) {
        if (xsaProjections != null) {
            requireF32(xsaProjections, (long) shape.rows() * shape.heads(), "XSA projections (rows x heads)");
        }
    }

    /** The kernels' common trailing parameters: seqLen, heads, kvHeads, headDim, scale. */
    private static KernelArgs geometry(KernelArgs args, AttentionShape shape) {
        return args.i32(shape.seqLen()).i32(shape.heads()).i32(shape.kvHeads()).i32(shape.headDim())
                .f32(shape.softmaxScale());
    }

    /** A tensor's bfloat16 form: the tensor itself, or a rounded copy that closing releases. */
    private record Bfloat16Operand(CudaTensor tensor, boolean copied) implements AutoCloseable {
        @Override
        public void close() {
            if (copied) {
                tensor.close();
            }
        }
    }

    private Bfloat16Operand asBfloat16(Tensor t) {
        Bfloat16Operand operand = bfloat16Scratch(t);
        if (operand.copied()) {
            tensors.copy(t, operand.tensor());
        }
        return operand;
    }

    /** t itself when it is bf16, else an uninitialized bf16 tensor of its shape for a kernel to fill. */
    private Bfloat16Operand bfloat16Scratch(Tensor t) {
        CudaTensor c = CudaTensor.of(t);
        return c.dtype() == DType.BF16 ? new Bfloat16Operand(c, false)
                : new Bfloat16Operand(tensors.empty(DType.BF16, c.shape()), true);
    }

    /** One block per {@link #BLOCK_ROWS} rows of a sequence, per head of {@code heads}, per sequence. */
    private static KernelModules.Dim3 blocks(AttentionShape shape, int heads) {
        return new KernelModules.Dim3(Math.ceilDiv(shape.seqLen(), BLOCK_ROWS), heads, shape.batch());
    }

    /**
     * The forward's grid: one block per two mirrored blocks of {@link #BLOCK_ROWS} query rows of a sequence (the last
     * and the first, ...: equal causal work), per head, per sequence.
     */
    private static KernelModules.Dim3 pairedBlocks(AttentionShape shape) {
        return new KernelModules.Dim3(Math.ceilDiv(Math.ceilDiv(shape.seqLen(), BLOCK_ROWS), 2), shape.heads(),
                shape.batch());
    }

    private static void requireOperands(Tensor q, Tensor k, Tensor v, AttentionShape shape) {
        if (shape.headDim() > MAX_HEAD_DIM || shape.headDim() % 8 != 0) {
            throw new IllegalArgumentException("CUDA attention needs a head_dim that is a multiple of 8 and at most "
                    + MAX_HEAD_DIM + ", got " + shape);
        }
        requireMatrix(q, shape.rows(), shape.heads() * shape.headDim(), "attention queries");
        requireMatrix(k, shape.rows(), shape.kvHeads() * shape.headDim(), "attention keys");
        requireMatrix(v, shape.rows(), shape.kvHeads() * shape.headDim(), "attention values");
    }

    /** Values of the log-sum-exp: one per (sequence, head, position). */
    private static long statistics(AttentionShape shape) {
        return (long) shape.batch() * shape.heads() * shape.seqLen();
    }
}
