package io.pgolf.data.artifact;

import io.pgolf.config.ConfigInputs;
import io.pgolf.config.HoconListing;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.model.GptLayout;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArchitectureKnobsTest {
    private static ResolvedConfig resolve(String... sets) {
        return PgolfConfig.resolve(ConfigInputs.of(Optional.empty(), Map.of(), List.of(sets)));
    }

    @Test
    void rebuildsTheLayoutOfTheConfigurationTheyCameFrom() {
        ResolvedConfig small = resolve("model.num-layers=3", "model.xsa-last-n=2", "model.loop-start=1", "model.loop-end=2", "model.model-dim=64", "model.num-heads=4",
                "model.num-kv-heads=2", "model.mlp-mult=3.5", "VOCAB_SIZE=1024", "model.tie-embeddings=false",
                "train.iterations=7");
        ArchitectureKnobs knobs = ArchitectureKnobs.of(small);
        assertTrue(knobs.values().keySet().stream().allMatch(k -> k.startsWith("model.") || k.equals("data.vocab-size")));
        assertEquals("3.5", knobs.values().get("model.mlp-mult"));
        GptLayout expected = new GptLayout(small.config().model(), 1024, small.config().optimizer().tiedEmbedInitStd());
        assertEquals(expected, knobs.layout("test"));
    }

    @Test
    void readsTheTrainingListingAsTheResolvedConfiguration() {
        ResolvedConfig run = resolve("model.num-loops=0", "VOCAB_SIZE=1024", "model.qk-gain-init=5.0");
        assertEquals(ArchitectureKnobs.of(run), ArchitectureKnobs.fromListing(HoconListing.of(run), "weights"));
    }

    @Test
    void namesTheKnobsThatContradictThem() {
        ArchitectureKnobs knobs = ArchitectureKnobs.of(resolve("model.num-layers=9", "model.xsa-last-n=9"));
        assertEquals(List.of(), knobs.conflictsWith(resolve("model.num-layers=9", "model.xsa-last-n=9", "train.iterations=3"),
                "artifact a"));
        List<String> conflicts = knobs.conflictsWith(resolve("model.num-layers=11", "VOCAB_SIZE=1024"), "artifact a");
        assertEquals(2, conflicts.size(), conflicts.toString());
        assertTrue(conflicts.get(0).contains("but artifact a has 8192") || conflicts.get(1).contains("but artifact a has 8192"),
                conflicts.toString());
    }

    @Test
    void refusesAnInvalidArchitectureNamingTheSource() {
        ArchitectureKnobs broken = new ArchitectureKnobs(Map.of("model.num-layers", "eleven"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> broken.layout("x.pgolf"));
        assertTrue(e.getMessage().startsWith("x.pgolf: invalid model configuration") && e.getMessage().contains("num-layers"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ArchitectureKnobs(Map.of("train.iterations", "3")));
    }
}
