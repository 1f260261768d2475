package io.pgolf.model.optim;

import java.util.List;

/**
 * Which optimizer a parameter belongs to, by the reference's rule: inside {@code blocks.}, matrices go to Muon
 * unless their name contains a control-tensor pattern, and everything of rank below 2 or with such a name is a
 * control tensor; outside blocks, {@code tok_emb.weight} is the token embedding, {@code lm_head.weight} the
 * untied head, and {@code skip_weights}, {@code skip_gates} and {@code lane_merge} are control tensors.
 */
public enum ParameterGroup {
    /** Muon, MATRIX_LR, MUON_WD. */
    MATRIX,
    /** AdamW, TIED_EMBED_LR (EMBED_LR when untied), EMBED_WD. */
    TOKEN_EMBEDDING,
    /** Adam without decay, HEAD_LR; only with untied embeddings. */
    HEAD,
    /** AdamW, SCALAR_LR, ADAM_WD. */
    CONTROL;

    /** The reference's CONTROL_TENSOR_NAME_PATTERNS: substrings that make a block tensor a control tensor. */
    public static final List<String> CONTROL_TENSOR_PATTERNS = List.of("attn_scale", "attn_scales", "mlp_scale",
            "mlp_scales", "resid_mix", "resid_mixes", "q_gain", "skip_weight", "skip_weights", "skip_gates");

    private static final List<String> TOP_LEVEL_CONTROL_TENSORS = List.of("skip_weights", "skip_gates", "lane_merge");

    /**
     * @throws IllegalArgumentException for a tensor the reference gives to no optimizer (a block tensor of rank
     *                                  above 2, an unknown top-level tensor)
     */
    public static ParameterGroup of(String name, int rank) {
        if (name.startsWith("blocks.")) {
            boolean control = CONTROL_TENSOR_PATTERNS.stream().anyMatch(name::contains);
            if (rank < 2 || control) {
                return CONTROL;
            }
            if (rank == 2) {
                return MATRIX;
            }
            throw new IllegalArgumentException("block parameter " + name + " of rank " + rank
                    + " belongs to no optimizer (Muon takes matrices, AdamW control tensors)");
        }
        if (name.equals("tok_emb.weight")) {
            return TOKEN_EMBEDDING;
        }
        if (name.equals("lm_head.weight")) {
            return HEAD;
        }
        if (TOP_LEVEL_CONTROL_TENSORS.contains(name)) {
            return CONTROL;
        }
        throw new IllegalArgumentException("parameter " + name + " belongs to no optimizer group of the reference");
    }
}
