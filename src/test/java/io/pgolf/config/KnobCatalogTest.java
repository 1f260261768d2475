package io.pgolf.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KnobCatalogTest {

    /** The environment variables of the reference named by STACK.md and the brief, plus SLIDING_BATCH_SEQS. */
    private static final Set<String> REFERENCE_ENV_NAMES = Set.of(
            "DATA_DIR", "SEED", "RUN_ID", "VOCAB_SIZE", "NUM_VAL_DOCS", "SHARD_TOKENS",
            "ITERATIONS", "WARMDOWN_FRAC", "WARMUP_STEPS", "TRAIN_BATCH_TOKENS", "TRAIN_SEQ_LEN", "TRAIN_LOG_EVERY",
            "MAX_WALLCLOCK_SECONDS", "VAL_BATCH_TOKENS", "EVAL_SEQ_LEN", "VAL_LOSS_EVERY", "SLIDING_WINDOW_ENABLED",
            "EVAL_STRIDE", "SLIDING_BATCH_SEQS",
            "NUM_LAYERS", "XSA_LAST_N", "MODEL_DIM", "EMBEDDING_DIM", "NUM_HEADS", "NUM_KV_HEADS", "MLP_MULT",
            "SKIP_GATES_ENABLED", "TIE_EMBEDDINGS", "LOGIT_SOFTCAP", "ROPE_BASE", "ROPE_DIMS", "ROPE_TRAIN_SEQ_LEN",
            "LN_SCALE", "QK_GAIN_INIT", "NUM_LOOPS", "LOOP_START", "LOOP_END", "ENABLE_LOOPING_AT",
            "PARALLEL_RESIDUAL_START",
            "MIN_LR", "EMBED_LR", "HEAD_LR", "TIED_EMBED_LR", "TIED_EMBED_INIT_STD", "MATRIX_LR", "SCALAR_LR",
            "MUON_MOMENTUM", "MUON_BACKEND_STEPS", "MUON_MOMENTUM_WARMUP_START", "MUON_MOMENTUM_WARMUP_STEPS",
            "MUON_ROW_NORMALIZE", "BETA1", "BETA2", "ADAM_EPS", "GRAD_CLIP_NORM", "MUON_BETA2", "ADAM_WD", "MUON_WD",
            "EMBED_WD", "EMA_DECAY",
            "COMPRESSOR", "GPTQ_CALIBRATION_BATCHES", "GPTQ_RESERVE_SECONDS", "MATRIX_BITS", "EMBED_BITS",
            "MATRIX_CLIP_SIGMAS", "EMBED_CLIP_SIGMAS", "ARTIFACT_BUDGET_BYTES",
            "TTT_ENABLED", "TTT_LR", "TTT_MOMENTUM", "TTT_EPOCHS", "TTT_CHUNK_TOKENS", "TTT_FREEZE_BLOCKS",
            "TTT_GRAD_CLIP", "TTT_BATCH_SEQS",
            "PREQUANT_TTT_ENABLED", "PREQUANT_TTT_LR", "PREQUANT_TTT_EPOCHS", "PREQUANT_TTT_FREEZE_BLOCKS",
            "WORLD_SIZE", "RANK", "LOCAL_RANK",
            // pgolf's own: the reference has only its CUDA path.
            "PGOLF_BACKEND");

    private final KnobCatalog catalog = KnobCatalog.fromReference();

    @Test
    void referenceConfHoldsExactlyTheReferenceKnobs() {
        Set<String> derived = catalog.knobs().stream().map(Knob::envName).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(REFERENCE_ENV_NAMES), derived);
    }

    @Test
    void derivedEnvironmentNamesAreUnique() {
        long distinct = catalog.knobs().stream().map(Knob::envName).distinct().count();
        assertEquals(catalog.knobs().size(), distinct);
    }

    @ParameterizedTest
    @CsvSource({
            "model.qk-gain-init, QK_GAIN_INIT",
            "prequant-ttt.prequant-ttt-lr, PREQUANT_TTT_LR",
            "optimizer.beta1, BETA1",
            "data.data-dir, DATA_DIR"})
    void envNameIsTheLastSegmentUpperCased(String path, String envName) {
        assertEquals(envName, Knob.envNameOf(path));
        assertEquals(envName, catalog.byPath(path).orElseThrow().envName());
    }

    @ParameterizedTest
    @CsvSource({
            "model.qk-gain-int, model.qk-gain-init",
            "pgolf.modle.num-layers, model.num-layers",
            "vocab-size, data.vocab-size",
            "train.vocab-size, data.vocab-size",
            "QK_GAIN_INT, model.qk-gain-init"})
    void suggestsTheKeyATypoWasMeantToBe(String typo, String intended) {
        assertEquals(intended, catalog.closestTo(typo).orElseThrow().path());
    }

    @Test
    void suggestsNothingForAnUnrelatedKey() {
        assertTrue(catalog.closestTo("completely.unrelated-setting").isEmpty());
    }
}
