package io.pgolf.model.optim;

import org.junit.jupiter.api.Test;

import static io.pgolf.model.optim.ParameterGroup.CONTROL;
import static io.pgolf.model.optim.ParameterGroup.HEAD;
import static io.pgolf.model.optim.ParameterGroup.MATRIX;
import static io.pgolf.model.optim.ParameterGroup.TOKEN_EMBEDDING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParameterGroupTest {
    @Test
    void blockMatricesGoToMuon() {
        for (String name : new String[]{"blocks.0.attn.c_q.weight", "blocks.3.attn.c_k.weight",
                "blocks.3.attn.c_v.weight", "blocks.10.attn.proj.weight", "blocks.1.mlp.fc.weight",
                "blocks.1.mlp.proj.weight"}) {
            assertEquals(MATRIX, ParameterGroup.of(name, 2), name);
        }
    }

    @Test
    void controlTensorsGoToScalarAdamEvenWhenTheyAreMatrices() {
        assertEquals(CONTROL, ParameterGroup.of("blocks.0.resid_mix", 2));
        assertEquals(CONTROL, ParameterGroup.of("blocks.0.attn_scale", 1));
        assertEquals(CONTROL, ParameterGroup.of("blocks.0.mlp_scale", 1));
        assertEquals(CONTROL, ParameterGroup.of("blocks.0.attn.q_gain", 1));
        assertEquals(CONTROL, ParameterGroup.of("skip_weights", 2));
        assertEquals(CONTROL, ParameterGroup.of("skip_gates", 2));
        assertEquals(CONTROL, ParameterGroup.of("lane_merge", 0));
    }

    @Test
    void embeddingAndHead() {
        assertEquals(TOKEN_EMBEDDING, ParameterGroup.of("tok_emb.weight", 2));
        assertEquals(HEAD, ParameterGroup.of("lm_head.weight", 2));
    }

    @Test
    void tensorsTheReferenceDoesNotOptimizeAreRejected() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> ParameterGroup.of("embed_proj.weight", 2));
        assertTrue(unknown.getMessage().contains("embed_proj.weight"), unknown.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ParameterGroup.of("blocks.0.attn.c_q.weight", 3));
    }
}
