package io.pgolf.gpu;

/** The geometry of one attention call: N = batch * seqLen rows of heads * headDim (queries) and kvHeads * headDim. */
public record AttentionShape(int batch, int seqLen, int heads, int kvHeads, int headDim, float softmaxScale) {
    public AttentionShape {
        if (batch <= 0 || seqLen <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("attention dimensions must be positive: " + this);
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads " + heads + " is not a multiple of kv heads " + kvHeads);
        }
    }

    public int rows() {
        return batch * seqLen;
    }

    public int groupSize() {
        return heads / kvHeads;
    }
}
