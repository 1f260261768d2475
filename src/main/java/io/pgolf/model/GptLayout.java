package io.pgolf.model;

import io.pgolf.config.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * What a {@link ModelConfig} and a vocabulary size make of the reference's GPT: its parameters (names, shapes,
 * initializations, in state_dict order) and the order its blocks run in. Pure arithmetic; nothing is allocated.
 *
 * <p>The rules, as in the reference: blocks are physical layers 0..L-1; layer i scales its normed inputs by
 * 1/sqrt(i+1) (LN_SCALE) and uses XSA when i >= L - XSA_LAST_N, whichever position it runs at. Without the depth
 * loop the first L/2 layers are the encoder and the rest the decoder. With it the sequence is
 * {@code 0..start-1, (start..end) x (NUM_LOOPS+1), end+1..L-1}, split in half (encoder = the shorter first half).
 * There are min(encoder, decoder) skip weights, sized by the looped sequence whenever NUM_LOOPS > 0.
 */
public record GptLayout(ModelConfig config, int vocabSize, double tiedEmbedInitStd) {
    /** The order blocks run in: the encoder's layers, whose outputs are pushed, then the decoder's. */
    public record Schedule(List<Integer> encoder, List<Integer> decoder) {
        public Schedule {
            encoder = List.copyOf(encoder);
            decoder = List.copyOf(decoder);
        }
    }

    public GptLayout {
        List<String> problems = new ArrayList<>();
        ModelConfig c = config;
        if (vocabSize <= 0) {
            problems.add("vocab size " + vocabSize + " must be positive");
        }
        if (c.numLayers() <= 0) {
            problems.add("model.num-layers " + c.numLayers() + " must be positive");
        }
        if (c.numHeads() <= 0 || c.numKvHeads() <= 0 || c.modelDim() % c.numHeads() != 0) {
            problems.add("model.model-dim " + c.modelDim() + " must split into model.num-heads " + c.numHeads());
        } else {
            if (c.numHeads() % c.numKvHeads() != 0) {
                problems.add("model.num-heads " + c.numHeads() + " must be a multiple of model.num-kv-heads "
                        + c.numKvHeads());
            }
            if (c.headDim() % 2 != 0) {
                problems.add("head dim " + c.headDim() + " must be even for RoPE");
            }
            if (c.ropeDims() < 0 || c.ropeDims() % 2 != 0 || c.ropeDims() > c.headDim()) {
                problems.add("model.rope-dims " + c.ropeDims() + " must be even and at most the head dim "
                        + c.headDim());
            }
        }
        if (c.embeddingDim() <= 0 || c.mlpHidden() <= 0) {
            problems.add("model.embedding-dim and the MLP width must be positive");
        }
        if (c.logitSoftcap() <= 0) {
            problems.add("model.logit-softcap " + c.logitSoftcap() + " must be positive");
        }
        if (c.numLoops() < 0 || c.numLoops() > 0
                && (c.loopStart() < 0 || c.loopEnd() < c.loopStart() || c.loopEnd() >= c.numLayers())) {
            problems.add("depth loop " + c.loopStart() + ".." + c.loopEnd() + " x" + c.numLoops()
                    + " must lie within layers 0.." + (c.numLayers() - 1));
        }
        if (c.ropeTrainSeqLen() <= 0) {
            problems.add("model.rope-train-seq-len " + c.ropeTrainSeqLen() + " must be positive");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid model configuration: " + String.join("; ", problems));
        }
    }

    /** The blocks in running order with the depth loop off or on. */
    public Schedule schedule(boolean looping) {
        int layers = config.numLayers();
        if (looping && config.numLoops() > 0) {
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < config.loopStart(); i++) {
                all.add(i);
            }
            for (int pass = 0; pass <= config.numLoops(); pass++) {
                for (int i = config.loopStart(); i <= config.loopEnd(); i++) {
                    all.add(i);
                }
            }
            for (int i = config.loopEnd() + 1; i < layers; i++) {
                all.add(i);
            }
            int encoder = all.size() / 2;
            return new Schedule(all.subList(0, encoder), all.subList(encoder, all.size()));
        }
        List<Integer> encoder = new ArrayList<>();
        List<Integer> decoder = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            (i < layers / 2 ? encoder : decoder).add(i);
        }
        return new Schedule(encoder, decoder);
    }

    /** Rows of skip_weights (and skip_gates): fixed by the looped sequence when the model has a loop. */
    public int skipCount() {
        Schedule s = schedule(config.numLoops() > 0);
        return Math.min(s.encoder().size(), s.decoder().size());
    }

    /** Whether physical layer i uses XSA (the last XSA_LAST_N physical layers). */
    public boolean usesXsa(int layer) {
        return config.xsaLastN() > 0 && layer >= Math.max(0, config.numLayers() - config.xsaLastN());
    }

    /** The factor on layer i's normed inputs: 1/sqrt(i+1) with LN_SCALE, else 1. */
    public float normScale(int layer) {
        return config.lnScale() ? (float) (1.0 / Math.sqrt(layer + 1)) : 1f;
    }

    /** Rotated dims per head (ROPE_DIMS, where 0 means the whole head). */
    public int ropeDims() {
        return config.ropeDims() > 0 ? config.ropeDims() : config.headDim();
    }

    public boolean hasEmbeddingProjections() {
        return config.embeddingDim() != config.modelDim();
    }

    /** Every parameter in the reference's state_dict order: the GPT's own tensors first, then its modules'. */
    public List<ParameterSpec> parameters() {
        int d = config.modelDim();
        int e = config.embeddingDim();
        int skips = skipCount();
        List<ParameterSpec> specs = new ArrayList<>();
        specs.add(new ParameterSpec("skip_weights", new int[] {skips, d}, new ParameterInit.Constant(1f)));
        if (config.skipGatesEnabled()) {
            specs.add(new ParameterSpec("skip_gates", new int[] {skips, d}, new ParameterInit.Constant(0f)));
        }
        if (config.parallelResidualsEnabled()) {
            specs.add(new ParameterSpec("lane_merge", new int[0], new ParameterInit.Constant(0.5f)));
        }
        // nn.Embedding's own default is N(0, 1); the reference overrides it only for tied embeddings.
        specs.add(new ParameterSpec("tok_emb.weight", new int[] {vocabSize, e},
                new ParameterInit.Normal(config.tieEmbeddings() ? tiedEmbedInitStd : 1.0)));
        if (hasEmbeddingProjections()) {
            specs.add(linear("embed_proj.weight", d, e));
            specs.add(linear("head_proj.weight", e, d));
        }
        for (int i = 0; i < config.numLayers(); i++) {
            String p = "blocks." + i + ".";
            specs.add(new ParameterSpec(p + "attn_scale", new int[] {d}, new ParameterInit.Constant(1f)));
            specs.add(new ParameterSpec(p + "mlp_scale", new int[] {d}, new ParameterInit.Constant(1f)));
            specs.add(new ParameterSpec(p + "resid_mix", new int[] {2, d}, new ParameterInit.RowConstants(1f, 0f)));
            specs.add(new ParameterSpec(p + "attn.q_gain", new int[] {config.numHeads()},
                    new ParameterInit.Constant((float) config.qkGainInit())));
            specs.add(linear(p + "attn.c_q.weight", d, d));
            specs.add(linear(p + "attn.c_k.weight", config.kvDim(), d));
            specs.add(linear(p + "attn.c_v.weight", config.kvDim(), d));
            specs.add(zero(p + "attn.proj.weight", d, d));
            specs.add(linear(p + "mlp.fc.weight", config.mlpHidden(), d));
            specs.add(zero(p + "mlp.proj.weight", d, config.mlpHidden()));
        }
        if (!config.tieEmbeddings()) {
            specs.add(zero("lm_head.weight", vocabSize, e));
        }
        return specs;
    }

    /** The number of scalar weights. */
    public long parameterCount() {
        return parameters().stream().mapToLong(ParameterSpec::elementCount).sum();
    }

    /** A CastedLinear's weight [out, in]: orthogonal when both sides are at least 64, else nn.Linear's default. */
    private static ParameterSpec linear(String name, int out, int in) {
        ParameterInit init = out >= 64 && in >= 64 ? new ParameterInit.Orthogonal() : new ParameterInit.LinearDefault();
        return new ParameterSpec(name, new int[] {out, in}, init);
    }

    private static ParameterSpec zero(String name, int out, int in) {
        return new ParameterSpec(name, new int[] {out, in}, new ParameterInit.Constant(0f));
    }
}
