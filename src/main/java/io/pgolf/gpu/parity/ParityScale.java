package io.pgolf.gpu.parity;

import io.pgolf.gpu.AttentionShape;

/**
 * The sizes the op cases run at. Row-wise operations take rows = batch * seqLen rows of width; the head operations
 * and attention take heads (and kvHeads) of headDim; the MLP's activation is rows x mlpHidden; the cross-entropy
 * takes lossRows rows of vocab logits; the GEMMs multiply m x k by k x n.
 */
public record ParityScale(String name, int batch, int seqLen, int width, int heads, int kvHeads, int headDim,
                          int ropeDims, int vocab, int mlpHidden, int lossRows, int gemmM, int gemmN, int gemmK) {
    /**
     * The fixtures' model (2 x 32 tokens, 4 heads of 16 with 2 kv heads, RoPE on 8 dims, vocab 1024), with rows of
     * 192 and GEMM sizes that are no multiple of anything, so that every kernel meets ragged edges.
     */
    public static final ParityScale TINY = new ParityScale("tiny", 2, 32, 192, 4, 2, 16, 8, 1024, 256, 64, 37, 45, 70);

    /**
     * head_dim 64 (what the GPU's attention is built for) on sequences of 100 positions, which no tile size divides,
     * three of them, with rows of 200 and an odd vocabulary: the edges of every tiled kernel at the record's head
     * size.
     */
    public static final ParityScale RAGGED =
            new ParityScale("ragged", 3, 100, 200, 4, 2, 64, 16, 1000, 600, 77, 100, 130, 70);

    /**
     * The record model's widths (d 512, 8 heads of 64 with 4 kv heads, RoPE on 16 dims, MLP 2048, vocab 8192) on two
     * sequences of 2048 tokens: fewer rows than a training micro-batch, the same shapes per row and per sequence.
     */
    public static final ParityScale RECORD =
            new ParityScale("record", 2, 2048, 512, 8, 4, 64, 16, 8192, 2048, 384, 2048, 2048, 512);

    public int rows() {
        return batch * seqLen;
    }

    public AttentionShape attentionShape() {
        return new AttentionShape(batch, seqLen, heads, kvHeads, headDim, (float) (1 / Math.sqrt(headDim)));
    }
}
