package io.pgolf.config;

/** The architecture: {@code pgolf.model}. {@code parallelResidualStart} is -1 when parallel lanes are off. */
public record ModelConfig(int numLayers, int xsaLastN, int modelDim, int embeddingDim, int numHeads, int numKvHeads,
                          double mlpMult, boolean skipGatesEnabled, boolean tieEmbeddings, double logitSoftcap,
                          double ropeBase, int ropeDims, int ropeTrainSeqLen, boolean lnScale, double qkGainInit,
                          int numLoops, int loopStart, int loopEnd, double enableLoopingAt,
                          int parallelResidualStart) {

    /** The value of parallel-residual-start that switches parallel lanes off. */
    public static final int PARALLEL_RESIDUAL_OFF = -1;

    static ModelConfig read(KnobReader r) {
        return new ModelConfig(r.integer("model.num-layers"), r.integer("model.xsa-last-n"),
                r.integer("model.model-dim"), r.integer("model.embedding-dim"), r.integer("model.num-heads"),
                r.integer("model.num-kv-heads"), r.real("model.mlp-mult"), r.flag("model.skip-gates-enabled"),
                r.flag("model.tie-embeddings"), r.real("model.logit-softcap"), r.real("model.rope-base"),
                r.integer("model.rope-dims"), r.integer("model.rope-train-seq-len"), r.flag("model.ln-scale"),
                r.real("model.qk-gain-init"), r.integer("model.num-loops"), r.integer("model.loop-start"),
                r.integer("model.loop-end"), r.real("model.enable-looping-at"),
                r.integer("model.parallel-residual-start"));
    }

    public int headDim() {
        return modelDim / numHeads;
    }

    /** Width of the key and value projections (grouped-query attention). */
    public int kvDim() {
        return numKvHeads * headDim();
    }

    /** MLP hidden width, int(mlp_mult * model_dim) as in the reference. */
    public int mlpHidden() {
        return (int) (mlpMult * modelDim);
    }

    public boolean parallelResidualsEnabled() {
        return parallelResidualStart != PARALLEL_RESIDUAL_OFF;
    }
}
