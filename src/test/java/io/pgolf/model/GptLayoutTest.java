package io.pgolf.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgolf.config.ConfigInputs;
import io.pgolf.config.ModelConfig;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.Profile;
import io.pgolf.data.SafeTensors;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class GptLayoutTest {
    private static PgolfConfig recordConfig(String... sets) {
        return PgolfConfig.resolve(new ConfigInputs(Optional.of(Profile.RECORD), Optional.empty(), Map.of(),
                List.of(sets))).config();
    }

    private static GptLayout recordLayout(String... sets) {
        PgolfConfig c = recordConfig(sets);
        return new GptLayout(c.model(), c.data().vocabSize(), c.optimizer().tiedEmbedInitStd());
    }

    @Test
    void parameterNamesAndShapesAreTheReferences() {
        GptLayout layout = TinyReference.load().layout();
        try (SafeTensors fixture = SafeTensors.open(TinyReference.tensors())) {
            Set<String> expected = fixture.names().stream().filter(n -> n.startsWith("init."))
                    .map(n -> n.substring("init.".length())).collect(Collectors.toCollection(TreeSet::new));
            Set<String> ours = layout.parameters().stream().map(ParameterSpec::name)
                    .collect(Collectors.toCollection(TreeSet::new));
            assertEquals(expected, ours);
            for (ParameterSpec spec : layout.parameters()) {
                assertArrayEquals(fixture.info("init." + spec.name()).shape(),
                        Arrays.stream(spec.shape()).asLongStream().toArray(), spec.name());
            }
        }
    }

    /**
     * torch's state_dict lists a module's own parameters before its submodules': the GPT's skip tensors, then
     * tok_emb, then each block's scales and mix before its attn (q_gain, then c_q, c_k, c_v, proj) and mlp.
     */
    @Test
    void parametersComeInStateDictOrder() {
        GptLayout layout = TinyReference.load().layout();
        List<String> expected = new ArrayList<>(List.of("skip_weights", "skip_gates", "tok_emb.weight"));
        for (int i = 0; i < layout.config().numLayers(); i++) {
            for (String suffix : List.of("attn_scale", "mlp_scale", "resid_mix", "attn.q_gain", "attn.c_q.weight",
                    "attn.c_k.weight", "attn.c_v.weight", "attn.proj.weight", "mlp.fc.weight", "mlp.proj.weight")) {
                expected.add("blocks." + i + "." + suffix);
            }
        }
        assertEquals(expected, layout.parameters().stream().map(ParameterSpec::name).toList());
    }

    /** STACK.md: "11L x 512d, 35.9M parameters at vocab 8192". */
    @Test
    void recordModelHas35Point9MillionParameters() {
        GptLayout layout = recordLayout();
        long count = layout.parameterCount();
        System.out.println("record parameter count " + count);
        // tok_emb 8192*512 + 11 blocks * (2*512^2 + 2*256*512 + 2*2048*512 + 512 + 512 + 2*512 + 8)
        // + skip_weights and skip_gates 7*512 each.
        assertEquals(35_943_512L, count);
        assertEquals("35.9", String.format("%.1f", count / 1e6));
        assertEquals(count + 1, recordLayout("model.parallel-residual-start=7").parameterCount(),
                "parallel lanes add one merge scalar");
    }

    /** STACK.md: "the layer sequence becomes 0 1 2 3 4 5 4 | 5 4 5 6 7 8 9 10 (encoder | decoder)". */
    @Test
    void recordScheduleWithAndWithoutTheLoop() {
        GptLayout layout = recordLayout();
        assertEquals(new GptLayout.Schedule(List.of(0, 1, 2, 3, 4, 5, 4), List.of(5, 4, 5, 6, 7, 8, 9, 10)),
                layout.schedule(true));
        assertEquals(new GptLayout.Schedule(List.of(0, 1, 2, 3, 4), List.of(5, 6, 7, 8, 9, 10)),
                layout.schedule(false));
        assertEquals(7, layout.skipCount());
        for (int i = 0; i < 11; i++) {
            assertTrue(layout.usesXsa(i), "XSA_LAST_N = 11 covers layer " + i);
        }
    }

    @Test
    void tinyScheduleSkipsXsaAndNormScales() {
        GptLayout layout = TinyReference.load().layout();
        assertEquals(new GptLayout.Schedule(List.of(0, 1, 2, 1), List.of(2, 1, 2, 3, 4)), layout.schedule(true));
        assertEquals(new GptLayout.Schedule(List.of(0, 1), List.of(2, 3, 4)), layout.schedule(false));
        try (SafeTensors fixture = SafeTensors.open(TinyReference.tensors())) {
            assertEquals(fixture.info("init.skip_weights").shape()[0], layout.skipCount());
        }
        assertFalse(layout.usesXsa(2));
        assertTrue(layout.usesXsa(3));
        assertTrue(layout.usesXsa(4));
        assertEquals(1f, layout.normScale(0));
        assertEquals((float) (1 / Math.sqrt(4)), layout.normScale(3));
        assertEquals(8, layout.ropeDims());
    }

    @Test
    void optionalParametersFollowTheirKnobs() {
        GptLayout layout = recordLayout("model.skip-gates-enabled=false", "model.tie-embeddings=false",
                "model.embedding-dim=256", "model.parallel-residual-start=7", "model.num-loops=0");
        List<String> names = layout.parameters().stream().map(ParameterSpec::name).toList();
        assertEquals(List.of("skip_weights", "lane_merge", "tok_emb.weight", "embed_proj.weight",
                "head_proj.weight"), names.subList(0, 5));
        assertEquals("lm_head.weight", names.getLast());
        ParameterSpec merge = layout.parameters().get(1);
        assertEquals(0, merge.shape().length, "lane_merge is a torch scalar");
        assertEquals(new ParameterInit.Constant(0.5f), merge.init());
        assertEquals(new ParameterInit.Normal(1.0), layout.parameters().get(2).init(),
                "untied embeddings keep nn.Embedding's N(0, 1)");
        assertEquals(5, layout.skipCount(), "without a loop: min(11 / 2, 11 - 11 / 2)");
    }

    @Test
    void inconsistentShapesAreRejected() {
        ModelConfig good = TinyReference.load().modelConfig();
        ModelConfig oddHeads = new ModelConfig(good.numLayers(), good.xsaLastN(), good.modelDim(), good.embeddingDim(),
                good.numHeads(), 3, good.mlpMult(), good.skipGatesEnabled(), good.tieEmbeddings(),
                good.logitSoftcap(), good.ropeBase(), good.ropeDims(), good.ropeTrainSeqLen(), good.lnScale(),
                good.qkGainInit(), good.numLoops(), good.loopStart(), 7, good.enableLoopingAt(),
                good.parallelResidualStart());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GptLayout(oddHeads, 1024, 0.005));
        assertTrue(e.getMessage().contains("model.num-kv-heads 3"), e.getMessage());
        assertTrue(e.getMessage().contains("depth loop"), e.getMessage());
    }
}
