package io.pgolf.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigValidationTest {

    private static Map<String, String> env(String assignments) {
        Map<String, String> env = new HashMap<>();
        for (String assignment : assignments.split(" ")) {
            String[] kv = assignment.split("=", 2);
            env.put(kv[0], kv[1]);
        }
        return env;
    }

    private static PgolfConfig load(Map<String, String> env) {
        return PgolfConfig.load(Optional.empty(), env, List.of());
    }

    /** Each case breaks one rule; the problem must name the key, its env var, the rule and the value found. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "VOCAB_SIZE=70000 | pgolf.data.vocab-size (VOCAB_SIZE) | [1, 65536] | 70000",
            "NUM_VAL_DOCS=0 | pgolf.data.num-val-docs (NUM_VAL_DOCS) | positive | 0",
            "WARMDOWN_FRAC=1.5 | pgolf.train.warmdown-frac (WARMDOWN_FRAC) | [0, 1] | 1.5",
            "ENABLE_LOOPING_AT=-0.1 | pgolf.model.enable-looping-at (ENABLE_LOOPING_AT) | [0, 1] | -0.1",
            "MODEL_DIM=500 | pgolf.model.model-dim (MODEL_DIM) | multiple of num-heads (NUM_HEADS) 8 | 500",
            "NUM_KV_HEADS=3 | pgolf.model.num-kv-heads (NUM_KV_HEADS) | divisor of num-heads (NUM_HEADS) 8 | 3",
            "ROPE_DIMS=15 | pgolf.model.rope-dims (ROPE_DIMS) | even number in [0, head_dim 64] | 15",
            "ROPE_DIMS=66 | pgolf.model.rope-dims (ROPE_DIMS) | even number in [0, head_dim 64] | 66",
            "LOOP_END=11 | pgolf.model.loop-end (LOOP_END) | [0, num-layers - 1 = 10] | 11",
            "LOOP_START=6 | pgolf.model.loop-start (LOOP_START) | [0, loop-end (LOOP_END) 5] | 6",
            "LOOP_START=-1 | pgolf.model.loop-start (LOOP_START) | [0, loop-end (LOOP_END) 5] | -1",
            "XSA_LAST_N=12 | pgolf.model.xsa-last-n (XSA_LAST_N) | [0, num-layers 11] | 12",
            "PARALLEL_RESIDUAL_START=11 | pgolf.model.parallel-residual-start (PARALLEL_RESIDUAL_START) | -1 (off) | 11",
            "WORLD_SIZE=3 | pgolf.distributed.world-size (WORLD_SIZE) | 1, 2, 4 or 8 | 3",
            "RANK=1 | pgolf.distributed.rank (RANK) | [0, world-size (WORLD_SIZE) - 1 = 0] | 1",
            "TRAIN_BATCH_TOKENS=786000 | pgolf.train.train-batch-tokens (TRAIN_BATCH_TOKENS) | multiple of 16384 | 786000",
            "EVAL_STRIDE=4096 | pgolf.eval.eval-stride (EVAL_STRIDE) | [1, eval-seq-len (EVAL_SEQ_LEN) 2048] | 4096",
            "VAL_BATCH_TOKENS=8192 | pgolf.eval.val-batch-tokens (VAL_BATCH_TOKENS) | at least 16384 | 8192",
            "MATRIX_BITS=9 | pgolf.quant.matrix-bits (MATRIX_BITS) | [2, 8] | 9",
            "EMBED_BITS=1 | pgolf.quant.embed-bits (EMBED_BITS) | [2, 8] | 1",
            "GPTQ_RESERVE_SECONDS=600 | pgolf.quant.gptq-reserve-seconds (GPTQ_RESERVE_SECONDS) | less than max-wallclock | 600.0",
            "BETA2=1.0 | pgolf.optimizer.beta2 (BETA2) | [0, 1) | 1.0",
            "ADAM_EPS=0 | pgolf.optimizer.adam-eps (ADAM_EPS) | positive | 0.0",
            "MATRIX_LR=-0.02 | pgolf.optimizer.matrix-lr (MATRIX_LR) | >= 0 | -0.02",
            "TTT_FREEZE_BLOCKS=12 | pgolf.ttt.ttt-freeze-blocks (TTT_FREEZE_BLOCKS) | [0, num-layers 11] | 12",
            "DATA_DIR= | pgolf.data.data-dir (DATA_DIR) | a directory | \"\""})
    void brokenRuleNamesKeyEnvVarAndValue(String assignment, String subject, String rule, String got) {
        ConfigException e = assertThrows(ConfigException.class, () -> load(env(assignment)));
        assertEquals(1, e.problems().size(), e.getMessage());
        ConfigProblem problem = e.problems().getFirst();
        assertEquals(subject, problem.subject());
        assertTrue(problem.detail().startsWith("expected "), problem.toString());
        assertTrue(problem.detail().contains(rule), problem.toString());
        assertTrue(problem.detail().endsWith("got " + got + " (from env)"), problem.toString());
    }

    @ParameterizedTest
    @CsvSource({
            "ROPE_DIMS=0 LOOP_START=0 LOOP_END=10 XSA_LAST_N=0",
            "PARALLEL_RESIDUAL_START=7 NUM_LOOPS=0 ENABLE_LOOPING_AT=1",
            "PARALLEL_RESIDUAL_START=0 ROPE_DIMS=64",
            "WORLD_SIZE=8 RANK=7 LOCAL_RANK=7 MATRIX_BITS=2 EMBED_BITS=8",
            "WORLD_SIZE=2 RANK=1 TRAIN_BATCH_TOKENS=16384 VAL_BATCH_TOKENS=16384",
            "MAX_WALLCLOCK_SECONDS=0 GPTQ_RESERVE_SECONDS=900 TRAIN_LOG_EVERY=0 VAL_LOSS_EVERY=0 GRAD_CLIP_NORM=0",
            "EVAL_STRIDE=2048 WARMDOWN_FRAC=0 MIN_LR=1 EMA_DECAY=1 TTT_FREEZE_BLOCKS=11",
            "NUM_HEADS=8 NUM_KV_HEADS=8 MODEL_DIM=768 VOCAB_SIZE=65536"})
    void boundaryValuesAreAccepted(String assignments) {
        assertDoesNotThrow(() -> load(env(assignments)));
    }

    @Test
    void everyBrokenRuleIsReportedAtOnce() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> load(env("VOCAB_SIZE=0 MODEL_DIM=500 WORLD_SIZE=3 EVAL_STRIDE=0 MATRIX_BITS=16")));
        List<String> subjects = e.problems().stream().map(ConfigProblem::subject).toList();
        assertEquals(List.of("pgolf.data.vocab-size (VOCAB_SIZE)", "pgolf.model.model-dim (MODEL_DIM)",
                "pgolf.quant.matrix-bits (MATRIX_BITS)", "pgolf.eval.eval-stride (EVAL_STRIDE)",
                "pgolf.distributed.world-size (WORLD_SIZE)"), subjects);
        assertEquals(6, e.getMessage().lines().count(), "a header and one line per problem:\n" + e.getMessage());
    }

    @Test
    void problemsSayWhereTheValueCameFrom() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> PgolfConfig.load(Optional.empty(), Map.of(), List.of("model.rope-dims=15")));
        assertTrue(e.getMessage().endsWith("got 15 (from --set)"), e.getMessage());
    }

    @Test
    void vocabMismatchNamesTheKnobTheTokenizerAndBothSizes() {
        DataConfig data = load(Map.of()).data();
        Path tokenizer = Path.of("/data/tokenizers/fineweb_1024_bpe.model");
        ConfigException e = assertThrows(ConfigException.class, () -> data.requireVocabMatches(1024, tokenizer));
        assertEquals("pgolf.data.vocab-size (VOCAB_SIZE): is 8192 but tokenizer " + tokenizer + " has 1024 pieces",
                e.problems().getFirst().toString());
        assertDoesNotThrow(() -> data.requireVocabMatches(8192, tokenizer));
    }
}
