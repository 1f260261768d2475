package io.pgolf.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PgolfConfigLoadTest {

    @TempDir
    Path dir;

    private static PgolfConfig load(Map<String, String> env, String... sets) {
        return PgolfConfig.load(Optional.empty(), env, List.of(sets));
    }

    private static ConfigException failure(Map<String, String> env, String... sets) {
        return assertThrows(ConfigException.class, () -> load(env, sets));
    }

    private Path file(String name, String hocon) throws IOException {
        return Files.writeString(dir.resolve(name), hocon);
    }

    @Test
    void defaultsAreStacksValues() {
        PgolfConfig cfg = load(Map.of());
        assertAll(
                () -> assertEquals(8192, cfg.data().vocabSize()),
                () -> assertEquals(50000, cfg.data().numValDocs()),
                () -> assertEquals(11, cfg.model().numLayers()),
                () -> assertEquals(4.0, cfg.model().qkGainInit()),
                () -> assertEquals(2, cfg.model().numLoops()),
                () -> assertFalse(cfg.model().parallelResidualsEnabled()),
                () -> assertEquals(786432, cfg.train().trainBatchTokens()),
                () -> assertEquals(0.667, cfg.train().warmdownFrac()),
                () -> assertTrue(cfg.train().runId().isEmpty()),
                () -> assertEquals(1e-8, cfg.optimizer().adamEps()),
                () -> assertTrue(cfg.optimizer().muonRowNormalize()),
                () -> assertEquals(Compressor.BROTLI, cfg.quant().compressor()),
                () -> assertEquals(12.85, cfg.quant().matrixClipSigmas()),
                () -> assertEquals(16_000_000, cfg.quant().artifactBudgetBytes()),
                () -> assertEquals(64, cfg.eval().evalStride()),
                () -> assertFalse(cfg.ttt().tttEnabled()),
                () -> assertEquals(32768, cfg.ttt().tttChunkTokens()),
                () -> assertEquals(21, cfg.prequantTtt().prequantTttEpochs()),
                () -> assertEquals(1, cfg.distributed().worldSize()));
    }

    @Test
    void derivedValuesFollowTheKnobs() {
        PgolfConfig cfg = load(Map.of());
        assertAll(
                () -> assertEquals(8, cfg.distributed().gradAccumSteps()),
                () -> assertEquals(48, cfg.trainSequencesPerMicroStep()),
                () -> assertEquals(64, cfg.model().headDim()),
                () -> assertEquals(256, cfg.model().kvDim()),
                () -> assertEquals(2048, cfg.model().mlpHidden()),
                () -> assertEquals(Path.of("./data/datasets/fineweb10B_sp8192"), cfg.data().datasetDir()),
                () -> assertEquals(Path.of("./data/tokenizers/fineweb_8192_bpe.model"), cfg.data().tokenizerFile()));
        PgolfConfig eightRanks = load(Map.of("WORLD_SIZE", "8", "RANK", "7", "VOCAB_SIZE", "1024", "DATA_DIR", "/d"));
        assertAll(
                () -> assertEquals(1, eightRanks.distributed().gradAccumSteps()),
                () -> assertEquals(48, eightRanks.trainSequencesPerMicroStep()),
                () -> assertEquals(Path.of("/d/tokenizers/fineweb_1024_bpe.model"), eightRanks.data().tokenizerFile()));
    }

    @Test
    void environmentOverridesByReferenceName() {
        PgolfConfig cfg = load(Map.of("QK_GAIN_INIT", "5.0", "TTT_ENABLED", "1", "TTT_LR", "0.01",
                "COMPRESSOR", "lzma", "RUN_ID", "seed42", "DATA_DIR", "/mnt/data", "PATH", "/usr/bin"));
        assertAll(
                () -> assertEquals(5.0, cfg.model().qkGainInit()),
                () -> assertTrue(cfg.ttt().tttEnabled()),
                () -> assertEquals(0.01, cfg.ttt().tttLr()),
                () -> assertEquals(Compressor.LZMA, cfg.quant().compressor()),
                () -> assertEquals(Optional.of("seed42"), cfg.train().runId()),
                () -> assertEquals(Path.of("/mnt/data"), cfg.data().dataDir()));
    }

    @ParameterizedTest
    @CsvSource({"1, true", "0, false", "true, true", "false, false", "' 1 ', true"})
    void flagsAcceptZeroOneTrueFalse(String text, boolean expected) {
        assertEquals(expected, load(Map.of("TIE_EMBEDDINGS", text)).model().tieEmbeddings());
    }

    @Test
    void setOverridesEnvironmentInEitherSpelling() {
        Map<String, String> env = Map.of("QK_GAIN_INIT", "5.0", "NUM_LOOPS", "3");
        assertEquals(6.0, load(env, "QK_GAIN_INIT=6").model().qkGainInit());
        assertEquals(5.5, load(env, "model.qk-gain-init=5.5").model().qkGainInit());
        assertEquals(5.25, load(env, "pgolf.model.qk-gain-init=5.25").model().qkGainInit());
        assertEquals(7.0, load(env, "QK_GAIN_INIT=6", "model.qk-gain-init=7").model().qkGainInit(), "later --set wins");
        assertEquals(3, load(env, "QK_GAIN_INIT=6").model().numLoops(), "untouched env value stays");
    }

    @Test
    void fileOverridesDefaultsAndEnvironmentOverridesFile() throws IOException {
        Path conf = file("run.conf", """
                pgolf {
                  model.num-layers = 12
                  train { seed = 42, run-id = "from-file" }
                  quant.compressor = zstd
                  ttt.ttt-enabled = 1
                }
                """);
        PgolfConfig cfg = PgolfConfig.load(Optional.of(conf), Map.of("SEED", "7"), List.of());
        assertAll(
                () -> assertEquals(12, cfg.model().numLayers()),
                () -> assertEquals(7, cfg.train().seed()),
                () -> assertEquals(Optional.of("from-file"), cfg.train().runId()),
                () -> assertEquals(Compressor.ZSTD, cfg.quant().compressor()),
                () -> assertTrue(cfg.ttt().tttEnabled()),
                () -> assertEquals(8192, cfg.data().vocabSize()));
    }

    @Test
    void recordProfileSetsTheRecordsEnvironmentBelowFileAndEnv() throws IOException {
        ConfigInputs record = new ConfigInputs(Optional.of(Profile.named("record")), Optional.empty(), Map.of(), List.of());
        PgolfConfig cfg = PgolfConfig.resolve(record).config();
        assertAll(
                () -> assertEquals(5.0, cfg.model().qkGainInit()),
                () -> assertTrue(cfg.ttt().tttEnabled()),
                () -> assertEquals(0.005, cfg.ttt().tttLr()),
                () -> assertEquals(3, cfg.ttt().tttEpochs()));
        Path conf = file("ttt-off.conf", "pgolf.ttt.ttt-enabled = false");
        ConfigInputs layered = new ConfigInputs(Optional.of(Profile.RECORD), Optional.of(conf),
                Map.of("QK_GAIN_INIT", "4.5"), List.of());
        PgolfConfig overridden = PgolfConfig.resolve(layered).config();
        assertFalse(overridden.ttt().tttEnabled());
        assertEquals(4.5, overridden.model().qkGainInit());
    }

    @Test
    void unknownProfileListsTheShippedOnes() {
        ConfigException e = assertThrows(ConfigException.class, () -> Profile.named("recrod"));
        assertTrue(e.getMessage().contains("--profile recrod"), e.getMessage());
        assertTrue(e.getMessage().contains("shipped: record"), e.getMessage());
    }

    @Test
    void badNumberInEnvironmentNamesTheVariable() {
        ConfigException e = failure(Map.of("QK_GAIN_INIT", "5.0x"));
        assertEquals(1, e.problems().size());
        assertEquals("pgolf.model.qk-gain-init (QK_GAIN_INIT)", e.problems().getFirst().subject());
        assertEquals("expected a number, got \"5.0x\" (from env)", e.problems().getFirst().detail());
    }

    @ParameterizedTest
    @CsvSource({
            "VOCAB_SIZE, 8192.0", "VOCAB_SIZE, 8e3", "VOCAB_SIZE, 0x2000", "VOCAB_SIZE, 2147483648",
            "VOCAB_SIZE, ''", "MLP_MULT, NaN", "MLP_MULT, Infinity", "MLP_MULT, 1e999", "MLP_MULT, 4.0f",
            "MLP_MULT, 4..0", "TIE_EMBEDDINGS, yes", "TIE_EMBEDDINGS, 2", "COMPRESSOR, gzip", "COMPRESSOR, BROTLI"})
    void valuesAreParsedStrictly(String envName, String text) {
        ConfigException e = failure(Map.of(envName, text));
        assertEquals(1, e.problems().size(), e.getMessage());
        assertTrue(e.problems().getFirst().subject().endsWith("(" + envName + ")"), e.getMessage());
        assertTrue(e.getMessage().contains("\"" + text + "\""), e.getMessage());
    }

    @Test
    void everyUnreadableValueIsReportedAtOnce() {
        ConfigException e = failure(Map.of("QK_GAIN_INIT", "high", "VOCAB_SIZE", "8k", "TTT_ENABLED", "yes",
                "COMPRESSOR", "gzip"), "model.qk-gain-int=5", "NUM_LAYERS");
        assertEquals(6, e.problems().size(), e.getMessage());
        for (String named : List.of("QK_GAIN_INIT", "VOCAB_SIZE", "TTT_ENABLED", "COMPRESSOR", "model.qk-gain-int",
                "--set NUM_LAYERS")) {
            assertTrue(e.getMessage().contains(named), named + " missing from\n" + e.getMessage());
        }
        assertTrue(e.getMessage().contains("expected one of brotli, lzma, zstd"), e.getMessage());
    }

    @Test
    void unknownKeyInFileNamesFileLineAndLikelyKey() throws IOException {
        Path conf = file("typo.conf", """
                pgolf {
                  model {
                    qk-gain-int = 5.0
                  }
                }
                """);
        ConfigException e = assertThrows(ConfigException.class,
                () -> PgolfConfig.load(Optional.of(conf), Map.of(), List.of()));
        assertEquals(1, e.problems().size(), e.getMessage());
        assertEquals("pgolf.model.qk-gain-int", e.problems().getFirst().subject());
        assertEquals("unknown key in file " + conf + ":3; did you mean pgolf.model.qk-gain-init (QK_GAIN_INIT)?",
                e.problems().getFirst().detail());
    }

    @Test
    void keysOutsideThePgolfSectionAreUnknown() throws IOException {
        Path conf = file("root.conf", "pglof.model.num-layers = 9\n");
        ConfigException e = assertThrows(ConfigException.class,
                () -> PgolfConfig.load(Optional.of(conf), Map.of(), List.of()));
        assertEquals("pglof.model.num-layers", e.problems().getFirst().subject());
        assertTrue(e.getMessage().contains("did you mean pgolf.model.num-layers"), e.getMessage());
    }

    @Test
    void wrongTypeInFileNamesFileAndLine() throws IOException {
        Path conf = file("types.conf", "pgolf {\n  model.num-layers = eleven\n}\n");
        ConfigException e = assertThrows(ConfigException.class,
                () -> PgolfConfig.load(Optional.of(conf), Map.of(), List.of()));
        assertEquals("pgolf.model.num-layers (NUM_LAYERS): expected an integer, got \"eleven\" (from file "
                + conf + ":2)", e.problems().getFirst().toString());
    }

    @Test
    void explicitNullInFileIsAWrongType() throws IOException {
        Path conf = file("null.conf", "pgolf.ttt.ttt-enabled = null\n");
        ConfigException e = assertThrows(ConfigException.class,
                () -> PgolfConfig.load(Optional.of(conf), Map.of(), List.of()));
        assertEquals("pgolf.ttt.ttt-enabled (TTT_ENABLED): expected a boolean (0, 1, true or false), got null (from file "
                + conf + ":1)", e.problems().getFirst().toString());
    }

    @Test
    void unreadableOrMissingFileIsNamed() throws IOException {
        Path broken = file("broken.conf", "pgolf { model { num-layers = 11 }\n");
        ConfigException syntax = assertThrows(ConfigException.class,
                () -> PgolfConfig.load(Optional.of(broken), Map.of(), List.of()));
        assertEquals("file " + broken + ":2", syntax.problems().getFirst().subject());
        assertTrue(syntax.problems().getFirst().detail().startsWith("expecting a close"), syntax.getMessage());
        Path missing = dir.resolve("absent.conf");
        ConfigException absent = assertThrows(ConfigException.class,
                () -> PgolfConfig.load(Optional.of(missing), Map.of(), List.of()));
        assertEquals("file " + missing + ": no such configuration file", absent.problems().getFirst().toString());
    }

    @Test
    void unknownSetKeySuggestsTheIntendedOne() {
        ConfigException e = failure(Map.of(), "vocab-size=1024");
        assertEquals("vocab-size: unknown key in --set vocab-size=1024; did you mean pgolf.data.vocab-size "
                + "(VOCAB_SIZE)?", e.problems().getFirst().toString());
    }
}
