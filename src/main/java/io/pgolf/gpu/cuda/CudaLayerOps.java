package io.pgolf.gpu.cuda;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.FusedBackwardChecks;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.RopeTable;
import io.pgolf.gpu.Tensor;

import java.util.Arrays;
import java.util.stream.Collectors;

import static io.pgolf.gpu.cuda.CudaOperands.requireF32;
import static io.pgolf.gpu.cuda.CudaOperands.requireFloat;
import static io.pgolf.gpu.cuda.CudaOperands.requireFloats;
import static io.pgolf.gpu.cuda.CudaOperands.requireMatrix;
import static io.pgolf.gpu.cuda.CudaOperands.requireType;

/**
 * {@link LayerOps} on the GPU: the kernels of src/main/cuda/layer_ops.cu, head_ops.cu and loss_ops.cu, float32
 * arithmetic on F32 or BF16 tensors; attention is {@link CudaFlashAttention}. Operands are checked (shape and
 * dtype) before anything is launched. Row-wise operations give each row to one warp; the per-head ones give each
 * head to a group of lanes holding its values in registers ({@link HeadLanes}).
 *
 * <p>A parameter gradient that sums over rows (dMix, dScale, the skip gate's, dGain) takes two launches: a
 * "partial" kernel in which each block sums its fixed range of rows into its own row of a float32 scratch matrix
 * (and adds the row-wise gradients), then {@code pg_sum_column_partials} adding those rows in block order in double;
 * the ranges depend on the row count alone, so the result is deterministic. The embedding gradient sorts the token
 * positions by id and sums each token's rows in order (see {@link #embeddingBackward}).
 */
public final class CudaLayerOps implements LayerOps {
    /** Warps per 256-thread block of the warp-per-row kernels; PG_ROW_WARPS of pgolf_vec.cuh. */
    private static final int ROW_WARPS = 8;
    /** The vector widths of the per-head kernels of head_ops.cu (entry points named with _v1 .. _v8), widest first. */
    private static final int[] HEAD_VECTORS = {8, 4, 2, 1};
    /** Threads of a partial kernel's block: 128 four-value columns cover a row of 512. */
    private static final int PARTIAL_THREADS = 128;
    /** Rows per partial block aimed at: 2048 blocks of 48 rows fill an H100 for the record's 98,304 rows. */
    private static final int ROWS_PER_PARTIAL = 48;
    private static final int MAX_PARTIALS = 2048;
    /** Logits each thread of a cross-entropy block holds in registers; CE_VALUES_PER_THREAD of loss_ops.cu. */
    private static final int CROSS_ENTROPY_VALUES_PER_THREAD = 16;
    /** A cross-entropy block holds its whole row in registers: at most 1024 threads. */
    private static final int MAX_CROSS_ENTROPY_VOCAB = 1024 * CROSS_ENTROPY_VALUES_PER_THREAD;
    /**
     * Logits the vectorized cross-entropy kernels move per load and store: this, or twice this (16 bytes of bf16)
     * when it divides the vocabulary.
     */
    private static final int CROSS_ENTROPY_VECTOR = 4;
    /** Token positions per block of the embedding gradient's counting sort; EMBEDDING_TILE of layer_ops.cu. */
    private static final int EMBEDDING_TILE = 512;
    /** Positions of one token summed by one warp; EMBEDDING_PIECE of layer_ops.cu. */
    private static final int EMBEDDING_PIECE = 32;
    /** Threads of the one block that scans over the vocabulary. */
    private static final int SCAN_THREADS = 1024;
    /** The rows of the column-sum kernels' 32 x 32 blocks. */
    private static final int COLUMN_TILE = 32;
    /** The largest grid y and z dimension CUDA allows. */
    private static final int MAX_GRID_YZ = 65535;
    /**
     * Rows of the MLP products' tiles (mlp_gemm.cu), and the rows of one box of every operand but the forward's
     * weight; also the columns of the backward's tiles.
     */
    private static final int MLP_TILE = 128;
    /** Columns of the forward MLP product's tiles, and the rows of one box of its weight. */
    private static final int MLP_FORWARD_TILE_COLS = 256;
    /** The dims of one step of the MLP products, and the columns of one box of h. */
    private static final int MLP_TILE_DIMS = 64;
    /** The forward's two consumer warpgroups and producer warpgroup. */
    private static final KernelModules.Dim3 MLP_FORWARD_BLOCK = KernelModules.Dim3.of(3 * 128);
    /**
     * The forward's dynamic shared memory: 1024 bytes of slack to align the buffers for the tensor cores,
     * PG_MLP_STAGES (3) buffers of a 64-dim step of the tile's rows of x and w, the staging buffer of its bf16 tile,
     * then 6 mbarriers of 8 bytes (64 reserved).
     */
    private static final int MLP_FORWARD_SHARED_BYTES = 1024
            + 3 * (MLP_TILE + MLP_FORWARD_TILE_COLS) * MLP_TILE_DIMS * 2 + MLP_TILE * MLP_FORWARD_TILE_COLS * 2 + 64;
    /** The backward's two consumer warpgroups and producer warp. */
    private static final KernelModules.Dim3 MLP_BACKWARD_BLOCK = KernelModules.Dim3.of(2 * 128 + 32);
    /**
     * The backward's dynamic shared memory: 1024 bytes of slack to align the buffers for the tensor cores,
     * PG_MLP_STAGES (3) buffers of a 128 x 64 bf16 tile of each operand, then 6 mbarriers of 8 bytes (64 reserved).
     */
    private static final int MLP_BACKWARD_SHARED_BYTES = 1024 + 3 * 2 * MLP_TILE * MLP_TILE_DIMS * 2 + 64;
    /**
     * The MLP products' tensor maps need rows that start 16-byte aligned: the shared dimension and the hidden
     * width must be multiples of 8 bf16 values.
     */
    private static final int MLP_DIM_MULTIPLE = 8;

    private final CudaTensorOps tensors;
    private final KernelModules kernels;
    private final CudaFlashAttention attention;
    /** The device's SMs: the forward MLP product runs one block on each. */
    private final int multiprocessors;
    /** Whether mlp_gemm.cu's kernels run here: they are built for sm_90a (wgmma) alone. */
    private final boolean fusedMlpProducts;
    /** The driver's tensor-map encoder for mlp_gemm.cu's operands; null where those kernels do not run. */
    private final TensorMaps tensorMaps;

    public CudaLayerOps(CudaRuntime runtime, CudaFlashAttention attention) {
        this.tensors = runtime.tensors();
        this.kernels = runtime.kernels();
        this.attention = attention;
        this.multiprocessors = runtime.device().multiprocessors();
        this.fusedMlpProducts = runtime.device().computeCapability().equals("9.0");
        this.tensorMaps = fusedMlpProducts ? TensorMaps.open() : null;
    }

    @Override
    public void embedding(Tensor ids, Tensor weight, Tensor out) {
        requireType(ids, DType.I32, "token ids");
        requireFloat(weight, "embedding weight");
        int rows = Math.toIntExact(ids.size());
        int d = weight.dim(-1);
        requireMatrix(out, rows, d, "embedding output");
        launchRows("pg_embedding", rows, KernelArgs.of().pointer(ids).tensor(weight).tensor(out)
                .i32(rows).i32(weight.rows()).i32(d));
    }

    /**
     * dWeight[ids[n]] += dOut[n] into an F32 dWeight, each token's rows added in position order, without float
     * atomics, so the result is the same in every run: a stable counting sort of the positions by id, then per-token
     * sums split into pieces of {@link #EMBEDDING_PIECE} positions (six kernels, described in layer_ops.cu).
     */
    @Override
    public void embeddingBackward(Tensor ids, Tensor dOut, Tensor dWeight) {
        requireType(ids, DType.I32, "token ids");
        requireType(dWeight, DType.F32, "embedding weight gradient");
        int rows = Math.toIntExact(ids.size());
        int vocab = dWeight.rows();
        int d = dWeight.dim(-1);
        requireMatrix(dOut, rows, d, "embedding output gradient");
        if (rows == 0 || d == 0) {
            return;
        }
        int tiles = Math.ceilDiv(rows, EMBEDDING_TILE);
        // Every token present has a piece that is not full, at most; all the others are full.
        int maxPieces = Math.ceilDiv(rows, EMBEDDING_PIECE) + Math.min(vocab, rows);
        try (CudaTensor counts = tensors.empty(DType.I32, vocab, tiles);
             CudaTensor ranks = tensors.empty(DType.I32, rows);
             CudaTensor starts = tensors.empty(DType.I32, vocab + 1);
             CudaTensor pieceStarts = tensors.empty(DType.I32, vocab + 1);
             CudaTensor sorted = tensors.empty(DType.I32, rows);
             CudaTensor partials = tensors.empty(DType.F32, maxPieces, d)) {
            tensors.fill(counts, 0f);
            kernels.launch("pg_embedding_tile_counts", KernelModules.Dim3.of(tiles),
                    KernelModules.Dim3.of(EMBEDDING_TILE), 0, KernelArgs.of().pointer(ids).i32(rows).i32(vocab)
                            .i32(tiles).pointer(counts).pointer(ranks));
            launchRows("pg_embedding_count_prefix", vocab, KernelArgs.of().pointer(counts).pointer(starts).i32(vocab)
                    .i32(tiles));
            kernels.launch("pg_embedding_starts", KernelModules.Dim3.of(1), KernelModules.Dim3.of(SCAN_THREADS), 0,
                    KernelArgs.of().pointer(starts).pointer(pieceStarts).i32(vocab));
            kernels.launchElementwise("pg_embedding_scatter", rows, KernelArgs.of().pointer(ids).pointer(ranks)
                    .pointer(counts).pointer(starts).pointer(sorted).i32(rows).i32(tiles));
            launchRows("pg_embedding_piece_sums", maxPieces, KernelArgs.of().pointer(sorted).pointer(starts)
                    .pointer(pieceStarts).tensor(dOut).pointer(dWeight).pointer(partials).i32(vocab).i32(d));
            launchRows("pg_embedding_combine_pieces", vocab, KernelArgs.of().pointer(pieceStarts).pointer(partials)
                    .pointer(dWeight).i32(vocab).i32(d));
        }
    }

    @Override
    public void rmsNorm(Tensor x, float scale, float eps, Tensor out, Tensor invRms) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireFloat(x, "rms_norm input");
        requireMatrix(out, rows, d, "rms_norm output");
        requireF32(invRms, rows, "rms_norm inverse rms");
        launchRows("pg_rms_norm", rows, KernelArgs.of().tensor(x).f32(scale).f32(eps).tensor(out).pointer(invRms)
                .i32(rows).i32(d));
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor invRms, float scale, Tensor dOut, Tensor dX) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireFloat(x, "rms_norm input");
        requireF32(invRms, rows, "rms_norm inverse rms");
        requireMatrix(dOut, rows, d, "rms_norm output gradient");
        requireMatrix(dX, rows, d, "rms_norm input gradient");
        launchRows("pg_rms_norm_backward", rows, KernelArgs.of().tensor(x).pointer(invRms).f32(scale).tensor(dOut)
                .accumulating(dX).i32(rows).i32(d));
    }

    @Override
    public void residualMix(Tensor x, Tensor x0, Tensor mix, Tensor out) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireFloat(x, "residual mix x");
        requireMatrix(x0, rows, d, "residual mix x0");
        requireMatrix(mix, 2, d, "residual mix weights");
        requireMatrix(out, rows, d, "residual mix output");
        launchRows("pg_residual_mix", rows, KernelArgs.of().tensor(x).tensor(x0).tensor(mix).tensor(out)
                .i32(rows).i32(d));
    }

    @Override
    public void residualMixBackward(Tensor x, Tensor x0, Tensor mix, Tensor dOut, Tensor dX, Tensor dX0, Tensor dMix) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireFloat(x, "residual mix x");
        requireMatrix(x0, rows, d, "residual mix x0");
        requireMatrix(mix, 2, d, "residual mix weights");
        requireMatrix(dOut, rows, d, "residual mix output gradient");
        requireMatrix(dX, rows, d, "residual mix x gradient");
        requireMatrix(dX0, rows, d, "residual mix x0 gradient");
        requireMatrix(dMix, 2, d, "residual mix weights gradient");
        RowBlocks blocks = RowBlocks.of(rows);
        try (CudaTensor partials = tensors.empty(DType.F32, blocks.count(), 2 * d)) {
            launchPartial("pg_residual_mix_backward_partial", blocks, KernelArgs.of().tensor(x).tensor(x0).tensor(mix)
                    .tensor(dOut).accumulating(dX).accumulating(dX0).pointer(partials).i32(rows).i32(d).i32(blocks.rowsEach()));
            addColumnSums(partials, blocks, 2 * d, dMix);
        }
    }

    @Override
    public void scaledResidual(Tensor x, Tensor scale, Tensor y, Tensor out) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireFloat(x, "scaled residual x");
        requireFloats(scale, d, "residual scale");
        requireMatrix(y, rows, d, "scaled residual branch");
        requireMatrix(out, rows, d, "scaled residual output");
        launchRows("pg_scaled_residual", rows, KernelArgs.of().tensor(x).tensor(scale).tensor(y).tensor(out)
                .i32(rows).i32(d));
    }

    @Override
    public void scaledResidualBackward(Tensor scale, Tensor y, Tensor dOut, Tensor dX, Tensor dY, Tensor dScale) {
        int rows = y.rows();
        int d = y.dim(-1);
        requireFloats(scale, d, "residual scale");
        requireFloat(y, "scaled residual branch");
        requireMatrix(dOut, rows, d, "scaled residual output gradient");
        if (dX != null) {
            requireMatrix(dX, rows, d, "scaled residual x gradient");
        }
        requireMatrix(dY, rows, d, "scaled residual branch gradient");
        requireFloats(dScale, d, "residual scale gradient");
        RowBlocks blocks = RowBlocks.of(rows);
        try (CudaTensor partials = tensors.empty(DType.F32, blocks.count(), d)) {
            launchPartial("pg_scaled_residual_backward_partial", blocks, KernelArgs.of().tensor(scale).tensor(y)
                    .tensor(dOut).accumulatingOrNull(dX).accumulating(dY).pointer(partials).i32(rows).i32(d).i32(blocks.rowsEach()));
            addColumnSums(partials, blocks, d, dScale);
        }
    }

    @Override
    public void residualMixRmsNorm(Tensor x, Tensor x0, Tensor mix, float scale, float eps, Tensor mixed,
                                   Tensor normed, Tensor invRms) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireFloat(x, "residual mix x");
        requireMatrix(x0, rows, d, "residual mix x0");
        requireMatrix(mix, 2, d, "residual mix weights");
        requireMatrix(mixed, rows, d, "residual mix output");
        requireOneType(x, x0, mixed);
        requireMatrix(normed, rows, d, "rms_norm output");
        requireF32(invRms, rows, "rms_norm inverse rms");
        launchRows("pg_residual_mix_rms_norm", rows, KernelArgs.of().tensor(x).tensor(x0).tensor(mix).f32(scale)
                .f32(eps).tensor(mixed).tensor(normed).pointer(invRms).i32(rows).i32(d));
    }

    @Override
    public void residualMixRmsNormBackward(Tensor x, Tensor x0, Tensor mix, Tensor invRms, float scale, Tensor dMixed,
                                           Tensor dNormed, Tensor dX, Tensor dX0, Tensor dMix) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireFloat(x, "residual mix x");
        requireMatrix(x0, rows, d, "residual mix x0");
        requireOneType(x, x0);
        requireMatrix(mix, 2, d, "residual mix weights");
        requireF32(invRms, rows, "rms_norm inverse rms");
        if (dMixed != null) {
            requireMatrix(dMixed, rows, d, "residual mix output gradient");
        }
        requireMatrix(dNormed, rows, d, "rms_norm output gradient");
        requireMatrix(dX, rows, d, "residual mix x gradient");
        requireMatrix(dX0, rows, d, "residual mix x0 gradient");
        requireMatrix(dMix, 2, d, "residual mix weights gradient");
        FusedRows lanes = FusedRows.of(d);
        RowBlocks blocks = RowBlocks.of(rows);
        try (CudaTensor partials = tensors.empty(DType.F32, blocks.count(), 2 * d)) {
            lanes.launch(kernels, "pg_residual_mix_rms_norm_backward_partial", blocks, KernelArgs.of().tensor(x)
                    .tensor(x0).tensor(mix).pointer(invRms).f32(scale).tensorOrNull(dMixed).tensor(dNormed)
                    .accumulating(dX).accumulating(dX0).pointer(partials).i32(rows).i32(d).i32(blocks.rowsEach()));
            addColumnSums(partials, blocks, 2 * d, dMix);
        }
    }

    @Override
    public void scaledResidualRmsNorm(Tensor x, Tensor residualScale, Tensor y, float normScale, float eps,
                                      Tensor out, Tensor normed, Tensor invRms) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireFloat(x, "scaled residual x");
        requireFloats(residualScale, d, "residual scale");
        requireMatrix(y, rows, d, "scaled residual branch");
        requireMatrix(out, rows, d, "scaled residual output");
        requireMatrix(normed, rows, d, "rms_norm output");
        requireF32(invRms, rows, "rms_norm inverse rms");
        launchRows("pg_scaled_residual_rms_norm", rows, KernelArgs.of().tensor(x).tensor(residualScale).tensor(y)
                .f32(normScale).f32(eps).tensor(out).tensor(normed).pointer(invRms).i32(rows).i32(d));
    }

    /** Without dX, dOut goes in twice: read, and replaced by the total gradient (stored where it was read). */
    @Override
    public void scaledResidualRmsNormBackward(Tensor residualScale, Tensor y, Tensor out, Tensor invRms,
                                              float normScale, Tensor dOut, Tensor dNormed, Tensor dX, Tensor dY,
                                              Tensor dResidualScale) {
        int rows = out.rows();
        int d = out.dim(-1);
        requireFloats(residualScale, d, "residual scale");
        requireMatrix(y, rows, d, "scaled residual branch");
        requireFloat(out, "scaled residual output");
        requireF32(invRms, rows, "rms_norm inverse rms");
        if (dOut != null) {
            requireMatrix(dOut, rows, d, "scaled residual output gradient");
        }
        requireMatrix(dNormed, rows, d, "rms_norm output gradient");
        FusedBackwardChecks.requireTotalGradientTarget(dX, dOut);
        if (dX != null) {
            requireMatrix(dX, rows, d, "scaled residual x gradient");
        }
        requireMatrix(dY, rows, d, "scaled residual branch gradient");
        requireFloats(dResidualScale, d, "residual scale gradient");
        FusedRows lanes = FusedRows.of(d);
        RowBlocks blocks = RowBlocks.of(rows);
        try (CudaTensor partials = tensors.empty(DType.F32, blocks.count(), d)) {
            KernelArgs args = KernelArgs.of().tensor(residualScale).tensor(y).tensor(out).pointer(invRms)
                    .f32(normScale).tensorOrNull(dOut).tensor(dNormed);
            args = dX == null ? args.overwriting(dOut) : args.accumulating(dX);
            lanes.launch(kernels, "pg_scaled_residual_rms_norm_backward_partial", blocks, args.accumulating(dY)
                    .pointer(partials).i32(rows).i32(d).i32(blocks.rowsEach()));
            addColumnSums(partials, blocks, d, dResidualScale);
        }
    }

    @Override
    public void skipGate(Tensor x, Tensor skip, Tensor weight, Tensor gate, Tensor out) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireFloat(x, "skip gate x");
        requireMatrix(skip, rows, d, "skip");
        requireFloats(weight, d, "skip weight");
        requireFloats(gate, d, "skip gate");
        requireMatrix(out, rows, d, "skip gate output");
        launchRows("pg_skip_gate", rows, KernelArgs.of().tensor(x).tensor(skip).tensor(weight).tensor(gate)
                .tensor(out).i32(rows).i32(d));
    }

    @Override
    public void skipGateBackward(Tensor x, Tensor skip, Tensor weight, Tensor gate, Tensor dOut,
                                 Tensor dX, Tensor dSkip, Tensor dWeight, Tensor dGate) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireFloat(x, "skip gate x");
        requireMatrix(skip, rows, d, "skip");
        requireFloats(weight, d, "skip weight");
        requireFloats(gate, d, "skip gate");
        requireMatrix(dOut, rows, d, "skip gate output gradient");
        requireMatrix(dX, rows, d, "skip gate x gradient");
        requireMatrix(dSkip, rows, d, "skip gradient");
        requireFloats(dWeight, d, "skip weight gradient");
        requireFloats(dGate, d, "skip gate gradient");
        RowBlocks blocks = RowBlocks.of(rows);
        try (CudaTensor partials = tensors.empty(DType.F32, blocks.count(), 2 * d)) {
            launchPartial("pg_skip_gate_backward_partial", blocks, KernelArgs.of().tensor(x).tensor(skip)
                    .tensor(weight).tensor(gate).tensor(dOut).accumulating(dX).accumulating(dSkip).pointer(partials)
                    .i32(rows).i32(d).i32(blocks.rowsEach()));
            kernels.launch("pg_skip_gate_finish", KernelModules.Dim3.of(Math.ceilDiv(d, COLUMN_TILE)),
                    KernelModules.Dim3.of(COLUMN_TILE, COLUMN_TILE), 0, KernelArgs.of().pointer(partials)
                            .i32(blocks.count()).i32(d).tensor(gate).accumulating(dWeight).accumulating(dGate));
        }
    }

    @Override
    public void qkvNormRope(Tensor qkv, AttentionShape shape, RopeTable rope, Tensor gain, float eps, Tensor q,
                            Tensor k, Tensor v, Tensor invRms) {
        int rows = shape.rows();
        requireQkv(qkv, shape, rope, gain);
        requireMatrix(q, rows, shape.heads() * shape.headDim(), "q");
        requireMatrix(k, rows, shape.kvHeads() * shape.headDim(), "k");
        requireMatrix(v, rows, shape.kvHeads() * shape.headDim(), "v");
        requireF32(invRms, (long) rows * (shape.heads() + shape.kvHeads()), "q/k inverse rms");
        int rowHeads = shape.heads() + 2 * shape.kvHeads();
        headCount((long) rows * rowHeads);
        if (shape.batch() > MAX_GRID_YZ || rowHeads > MAX_GRID_YZ) {
            throw new IllegalArgumentException("the CUDA q/k/v norm-rope puts heads and sequences on the grid's y and z,"
                    + " at most " + MAX_GRID_YZ + " each: " + rowHeads + " heads, " + shape.batch() + " sequences");
        }
        HeadLanes lanes = HeadLanes.forRope(shape.headDim(), rope.dims());
        // A block takes ROW_WARPS * unitsPerWarp positions of one head of one sequence (see head_ops.cu).
        KernelModules.Dim3 grid = new KernelModules.Dim3(
                Math.ceilDiv(shape.seqLen(), ROW_WARPS * lanes.unitsPerWarp()), rowHeads, shape.batch());
        kernels.launch("pg_qkv_norm_rope" + lanes.suffix(), grid, KernelModules.Dim3.of(ROW_WARPS * 32), 0,
                KernelArgs.of().tensor(qkv).i32(shape.heads()).i32(shape.kvHeads()).i32(shape.headDim())
                        .i32(lanes.groupLanes()).tensor(rope.cos()).tensor(rope.sin()).i32(rope.dims())
                        .i32(shape.seqLen()).tensor(gain).f32(eps).tensor(q).tensor(k).tensor(v).pointer(invRms));
    }

    @Override
    public void qkvNormRopeBackward(Tensor qkv, AttentionShape shape, RopeTable rope, Tensor gain, Tensor invRms,
                                    Tensor dQ, Tensor dK, Tensor dV, Tensor dQkv, Tensor dGain) {
        int rows = shape.rows();
        int heads = shape.heads();
        requireQkv(qkv, shape, rope, gain);
        requireF32(invRms, (long) rows * (heads + shape.kvHeads()), "q/k inverse rms");
        requireMatrix(dQ, rows, heads * shape.headDim(), "q gradient");
        requireMatrix(dK, rows, shape.kvHeads() * shape.headDim(), "k gradient");
        requireMatrix(dV, rows, shape.kvHeads() * shape.headDim(), "v gradient");
        requireMatrix(dQkv, rows, qkv.dim(-1), "q|k|v gradient");
        requireFloats(dGain, heads, "q gain gradient");
        headCount((long) rows * (heads + 2 * shape.kvHeads()));
        RowBlocks blocks = RowBlocks.of(rows);
        HeadLanes lanes = HeadLanes.forRope(shape.headDim(), rope.dims());
        try (CudaTensor partials = tensors.empty(DType.F32, blocks.count(), heads)) {
            kernels.launch("pg_qkv_norm_rope_backward" + lanes.suffix(), KernelModules.Dim3.of(blocks.count()),
                    KernelModules.Dim3.of(ROW_WARPS * 32), ROW_WARPS * lanes.unitsPerWarp() * heads * Float.BYTES,
                    KernelArgs.of().tensor(qkv).i32(heads).i32(shape.kvHeads()).i32(shape.headDim())
                            .i32(lanes.groupLanes()).tensor(rope.cos()).tensor(rope.sin()).i32(rope.dims())
                            .i32(shape.seqLen()).tensor(gain).pointer(invRms).tensor(dQ).tensor(dK).tensor(dV)
                            .accumulating(dQkv).pointer(partials).i32(rows).i32(blocks.rowsEach()));
            addColumnSums(partials, blocks, heads, dGain);
        }
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp,
                          Tensor xsaProjections) {
        attention.forward(q, k, v, shape, out, logSumExp, xsaProjections);
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp,
                                  Tensor xsaProjections, Tensor dOut, Tensor dQ, Tensor dK, Tensor dV) {
        attention.backward(q, k, v, shape, out, logSumExp, xsaProjections, dOut, dQ, dK, dV);
    }

    @Override
    public void leakyReluSquared(Tensor x, float slope, Tensor out) {
        requireFloat(x, "leaky_relu^2 input");
        requireFloats(out, x.size(), "leaky_relu^2 output");
        kernels.launchElementwise("pg_leaky_relu_squared", Math.ceilDiv(x.size(), 4),
                KernelArgs.of().tensor(x).f32(slope).tensor(out).i64(x.size()));
    }

    @Override
    public void leakyReluSquaredBackward(Tensor x, float slope, Tensor dOut, Tensor dX) {
        requireFloat(x, "leaky_relu^2 input");
        requireFloats(dOut, x.size(), "leaky_relu^2 output gradient");
        requireFloats(dX, x.size(), "leaky_relu^2 input gradient");
        kernels.launchElementwise("pg_leaky_relu_squared_backward", Math.ceilDiv(x.size(), 4),
                KernelArgs.of().tensor(x).f32(slope).tensor(dOut).accumulating(dX).i64(x.size()));
    }

    /**
     * On Hopper with bf16 operands, one kernel (pg_mlp_hidden) whose epilogue stores h and a from the product's
     * accumulators, so that h is never read back; otherwise cuBLAS, then {@link #leakyReluSquared}.
     */
    @Override
    public void mlpHidden(Tensor x, Tensor w, float slope, Tensor h, Tensor a) {
        requireFloat(x, "MLP input");
        int rows = x.rows();
        int d = x.dim(-1);
        int hidden = w.rows();
        requireMatrix(w, hidden, d, "MLP first weight");
        requireMatrix(h, rows, hidden, "MLP hidden pre-activation h");
        requireMatrix(a, rows, hidden, "MLP hidden activation a");
        if (fusesMlpProducts(rows, hidden, d, x, w, h, a)) {
            kernels.launch("pg_mlp_hidden", mlpForwardGrid(rows, hidden), MLP_FORWARD_BLOCK, MLP_FORWARD_SHARED_BYTES,
                    KernelArgs.of().bytes(mlpMap(x, rows, d, MLP_TILE))
                            .bytes(mlpMap(w, hidden, d, MLP_FORWARD_TILE_COLS)).pointer(h).pointer(a)
                            .i32(rows).i32(hidden).i32(d).f32(slope));
        } else {
            tensors.gemm(false, true, 1f, x, w, 0f, h);
            leakyReluSquared(h, slope, a);
        }
    }

    /**
     * On Hopper with bf16 operands, one kernel (pg_mlp_hidden_backward) whose epilogue reads h and stores dH from the
     * product's accumulators, so that dA never goes through memory; otherwise cuBLAS into a scratch dA, then
     * {@link #leakyReluSquaredBackward} into dH marked zero, which it therefore stores (pending zeros).
     */
    @Override
    public void mlpHiddenBackward(Tensor dOut, Tensor vT, Tensor h, float slope, Tensor dH) {
        requireFloat(h, "MLP hidden pre-activation h");
        int rows = h.rows();
        int hidden = h.dim(-1);
        int d = vT.dim(-1);
        requireMatrix(vT, hidden, d, "MLP second weight, transposed");
        requireMatrix(dOut, rows, d, "MLP output gradient");
        requireMatrix(dH, rows, hidden, "MLP hidden gradient dH");
        if (fusesMlpProducts(rows, hidden, d, dOut, vT, h, dH)) {
            kernels.launch("pg_mlp_hidden_backward", mlpBackwardGrid(rows, hidden), MLP_BACKWARD_BLOCK,
                    MLP_BACKWARD_SHARED_BYTES, KernelArgs.of().bytes(mlpMap(dOut, rows, d, MLP_TILE))
                            .bytes(mlpMap(vT, hidden, d, MLP_TILE)).bytes(mlpMap(h, rows, hidden, MLP_TILE))
                            .pointer(dH).i32(rows).i32(hidden).i32(d)
                            .f32(slope));
        } else {
            try (Tensor dA = tensors.empty(dH.dtype(), rows, hidden)) {
                tensors.gemm(false, true, 1f, dOut, vT, 0f, dA);
                tensors.fill(dH, 0f);
                leakyReluSquaredBackward(h, slope, dA, dH);
            }
        }
    }

    /** Whether mlp_gemm.cu's kernels take these operands (else the MLP operations compose cuBLAS and kernels). */
    private boolean fusesMlpProducts(int rows, int hidden, int d, Tensor... operands) {
        return fusedMlpProducts && rows > 0 && hidden > 0 && d > 0 && d % MLP_DIM_MULTIPLE == 0
                && hidden % MLP_DIM_MULTIPLE == 0
                && Math.ceilDiv(rows, MLP_TILE) <= MAX_GRID_YZ
                && Arrays.stream(operands).allMatch(t -> t.dtype() == DType.BF16);
    }

    /** The tensor map of mlp_gemm.cu's bf16 [rows, cols] operand t: boxes of 64 columns x boxRows rows. */
    private byte[] mlpMap(Tensor t, int rows, int cols, int boxRows) {
        return tensorMaps.bf16RowMajor(CudaTensor.of(t).address(), rows, cols, MLP_TILE_DIMS, boxRows);
    }

    /**
     * The forward's blocks: one an SM (each loops over tiles), at most one a tile. The kernel counts tiles in an int:
     * 2^30 tiles of 128 x 256 would need an h of 64 TiB.
     */
    private KernelModules.Dim3 mlpForwardGrid(int rows, int hidden) {
        long tiles = (long) Math.ceilDiv(rows, MLP_TILE) * Math.ceilDiv(hidden, MLP_FORWARD_TILE_COLS);
        return KernelModules.Dim3.of((int) Math.min(tiles, multiprocessors));
    }

    /** The backward's blocks: one a tile of 128 x 128. */
    private static KernelModules.Dim3 mlpBackwardGrid(int rows, int hidden) {
        return KernelModules.Dim3.of(Math.ceilDiv(hidden, MLP_TILE), Math.ceilDiv(rows, MLP_TILE));
    }

    @Override
    public void softcap(Tensor z, float cap, Tensor out) {
        requireFloat(z, "softcap input");
        requireFloats(out, z.size(), "softcap output");
        kernels.launchElementwise("pg_softcap", Math.ceilDiv(z.size(), 4),
                KernelArgs.of().tensor(z).f32(cap).tensor(out).i64(z.size()));
    }

    @Override
    public void softcapCrossEntropy(Tensor z, Tensor targets, float cap, Tensor loss, Tensor dZ, float gradScale) {
        int rows = z.rows();
        int vocab = z.dim(-1);
        requireFloat(z, "logits");
        requireType(targets, DType.I32, "cross-entropy targets");
        if (targets.size() != rows) {
            throw new IllegalArgumentException("cross-entropy targets must hold " + rows + " values, got "
                    + targets.describe());
        }
        requireF32(loss, rows, "cross-entropy loss");
        if (dZ != null) {
            requireMatrix(dZ, rows, vocab, "logit gradient");
        }
        if (vocab > MAX_CROSS_ENTROPY_VOCAB) {
            throw new IllegalArgumentException("the CUDA cross-entropy keeps a row of logits in one block's registers:"
                    + " at most " + MAX_CROSS_ENTROPY_VOCAB + " logits per row, got " + vocab);
        }
        if (rows == 0) {
            return;
        }
        int threads = Math.max(32, Math.ceilDiv(Math.ceilDiv(vocab, CROSS_ENTROPY_VALUES_PER_THREAD), 32) * 32);
        // Rows start at multiples of the vector when the vocabulary is one (tensors start aligned, see CudaTensor).
        String kernel = vocab % (2 * CROSS_ENTROPY_VECTOR) == 0 ? "pg_softcap_cross_entropy_vec8"
                : vocab % CROSS_ENTROPY_VECTOR == 0 ? "pg_softcap_cross_entropy_vec4" : "pg_softcap_cross_entropy";
        KernelArgs args = KernelArgs.of().tensor(z).pointer(targets).f32(cap).pointer(loss);
        // In place, each block reads its whole row (and the target's logit) before the barrier of its log-sum-exp
        // merge and writes the gradient after it.
        args = dZ == z ? args.overwriting(dZ) : args.accumulatingOrNull(dZ);
        kernels.launch(kernel, KernelModules.Dim3.of(rows), KernelModules.Dim3.of(threads), 0,
                args.f32(gradScale).i32(rows).i32(vocab));
    }

    /**
     * How a per-head kernel of head_ops.cu lays heads on lanes: {@code vector} values per lane (one load), a head on
     * a group of {@code groupLanes} lanes (headDim / vector rounded up to a power of two), at most a warp.
     */
    private record HeadLanes(int vector, int groupLanes) {
        /**
         * For q/k norm-rope: the widest vector that divides headDim and the rotary half, so that a partner is one
         * lane group away.
         */
        static HeadLanes forRope(int headDim, int ropeDims) {
            for (int vector : HEAD_VECTORS) {
                if (headDim % vector == 0 && (ropeDims / 2) % vector == 0) {
                    int groupLanes = Integer.highestOneBit(Math.max(1, headDim / vector * 2 - 1));
                    if (groupLanes <= 32) {
                        return new HeadLanes(vector, groupLanes);
                    }
                }
            }
            throw new IllegalArgumentException("q/k heads of " + headDim + " with a rotary embedding on " + ropeDims
                    + " dims do not fit the CUDA kernels: a warp of 32 lanes must hold them at up to 8 values a lane");
        }

        int unitsPerWarp() {
            return 32 / groupLanes;
        }

        String suffix() {
            return "_v" + vector;
        }
    }

    /** A warp-per-row kernel over {@code rows} rows: blocks of {@link #ROW_WARPS} warps. */
    private void launchRows(String kernel, int rows, KernelArgs args) {
        if (rows == 0) {
            return;
        }
        kernels.launch(kernel, KernelModules.Dim3.of(Math.ceilDiv(rows, ROW_WARPS)),
                KernelModules.Dim3.of(ROW_WARPS * 32), 0, args);
    }

    private void launchPartial(String kernel, RowBlocks blocks, KernelArgs args) {
        if (blocks.count() > 0) {
            kernels.launch(kernel, KernelModules.Dim3.of(blocks.count()), KernelModules.Dim3.of(PARTIAL_THREADS), 0,
                    args);
        }
    }

    /** dst[j] += the sum over the blocks of partials[b][j], j &lt; width. */
    private void addColumnSums(CudaTensor partials, RowBlocks blocks, int width, Tensor dst) {
        if (blocks.count() > 0 && width > 0) {
            kernels.launch("pg_sum_column_partials", KernelModules.Dim3.of(Math.ceilDiv(width, COLUMN_TILE)),
                    KernelModules.Dim3.of(COLUMN_TILE, COLUMN_TILE), 0,
                    KernelArgs.of().pointer(partials).i32(blocks.count()).i32(width).accumulating(dst));
        }
    }

    /**
     * The launch of a fused residual-and-norm backward (layer_ops.cu): a thread per {@code vector} columns of every
     * row of its block's range, {@code threads} of them (the row's columns, rounded up to a warp). Four columns a
     * thread when the width allows it (every row then starts aligned: tensors start 256-byte aligned).
     */
    private record FusedRows(int vector, int threads) {
        private static final int MAX_THREADS = 1024;

        static FusedRows of(int d) {
            int vector = d % 4 == 0 ? 4 : 1;
            int threads = Math.max(32, Math.ceilDiv(Math.ceilDiv(d, vector), 32) * 32);
            if (threads > MAX_THREADS) {
                throw new IllegalArgumentException("the fused residual and rms_norm backward holds a row in one block"
                        + " of at most " + MAX_THREADS + " threads, " + vector + " values each: rows of " + d
                        + " do not fit");
            }
            return new FusedRows(vector, threads);
        }

        void launch(KernelModules kernels, String kernel, RowBlocks blocks, KernelArgs args) {
            if (blocks.count() > 0) {
                kernels.launch(kernel + "_v" + vector, KernelModules.Dim3.of(blocks.count()),
                        KernelModules.Dim3.of(threads), 0, args);
            }
        }
    }

    /**
     * The row ranges of a partial kernel: {@code count} blocks of {@code rowsEach} rows (the last fewer), about
     * {@link #ROWS_PER_PARTIAL} each and at most {@link #MAX_PARTIALS} blocks; a function of the row count alone.
     */
    private record RowBlocks(int count, int rowsEach) {
        static RowBlocks of(int rows) {
            if (rows == 0) {
                return new RowBlocks(0, 1);
            }
            int target = Math.min(MAX_PARTIALS, Math.ceilDiv(rows, ROWS_PER_PARTIAL));
            int rowsEach = Math.ceilDiv(rows, target);
            return new RowBlocks(Math.ceilDiv(rows, rowsEach), rowsEach);
        }
    }

    /** The fused residual mix's backward recomputes its result from x and x0: they and it share one type. */
    private static void requireOneType(Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t.dtype() != tensors[0].dtype()) {
                throw new IllegalArgumentException("the fused residual mix needs x, x0 and its result in one type, got "
                        + Arrays.stream(tensors).map(Tensor::describe).collect(Collectors.joining(", ")));
            }
        }
    }

    private static void requireQkv(Tensor qkv, AttentionShape shape, RopeTable rope, Tensor gain) {
        requireFloat(qkv, "q|k|v");
        requireMatrix(qkv, shape.rows(), (shape.heads() + 2 * shape.kvHeads()) * shape.headDim(), "q|k|v");
        rope.requireCovers(shape.headDim(), shape.seqLen());
        requireFloats(gain, shape.heads(), "q gain");
    }

    /** The kernels of head_ops.cu index (row, head) pairs in 32 bits. */
    private static int headCount(long pairs) {
        if (pairs > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(pairs + " (row, head) pairs exceed the CUDA head kernels' 32-bit indices");
        }
        return (int) pairs;
    }
}
