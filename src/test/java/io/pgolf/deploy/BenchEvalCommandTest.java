package io.pgolf.deploy;

import io.pgolf.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pgolf bench eval on the CPU with the fixtures' tiny model and random tokens. */
class BenchEvalCommandTest {
    /** The fixtures' tiny model, evaluated in windows of 32 with stride 8 and TTT chunks of 1,024 targets. */
    private static final List<String> TINY = List.of("VOCAB_SIZE=1024", "NUM_LAYERS=5", "MODEL_DIM=64",
            "EMBEDDING_DIM=64", "NUM_HEADS=4", "NUM_KV_HEADS=2", "ROPE_DIMS=8", "XSA_LAST_N=2", "LOOP_START=1",
            "LOOP_END=2", "TRAIN_SEQ_LEN=32", "ROPE_TRAIN_SEQ_LEN=32", "TRAIN_BATCH_TOKENS=8192", "EVAL_SEQ_LEN=32",
            "EVAL_STRIDE=8", "SLIDING_BATCH_SEQS=16", "TTT_CHUNK_TOKENS=1024", "TTT_BATCH_SEQS=8", "TTT_EPOCHS=2");

    private static CliResult run(String... extra) {
        List<String> args = new ArrayList<>(List.of("bench", "eval", "--threads", "2"));
        TINY.forEach(setting -> args.addAll(List.of("--set", setting)));
        args.addAll(List.of(extra));
        return CliResult.run(args.toArray(String[]::new));
    }

    private static double figure(String out, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(out);
        assertTrue(m.find(), "no line matches " + regex + " in\n" + out);
        return Double.parseDouble(m.group(1).replace(",", ""));
    }

    @Test
    void printsPlainSlidingAndTttThroughput() {
        CliResult result = run("--tokens", "4100");
        assertEquals(0, result.exit(), result.out() + result.err());
        String out = result.out();
        // 4,100 targets are cut to 128 windows of 32: 4,096 targets, each scored once by every evaluation.
        assertTrue(out.contains("4,096 targets (128 windows of 32) from random tokens"), out);
        assertTrue(figure(out, "^plain:   4,096 tokens in 128 windows of 32, .* ([\\d,.]+) tokens/s") > 0, out);
        // Windows start every 8 targets while 24 targets of context leave some to score: ceil((4096 - 24) / 8).
        assertTrue(figure(out, "^sliding: 4,096 scored tokens in 509 windows of 32, stride 8, .* ([\\d,.]+) windows/s")
                > 0, out);
        assertTrue(figure(out, "^sliding: .* ([\\d,.]+) scored tokens/s") > 0, out);
        // Four chunks of 1,024 targets, the last never trained on; each trained chunk is 32 sequences, 4 batches of
        // 8, in each of 2 epochs.
        assertTrue(figure(out, "^ttt:     4,096 scored tokens in 4 chunks of 1,024 \\(3 trained, 2 epochs, 24 optimizer"
                + " steps .* ([\\d,.]+) scored tokens/s") > 0, out);
        double scoring = figure(out, "^ttt: .* scoring [\\d.]+ s \\(([\\d]+)%\\)");
        double training = figure(out, "^ttt: .* training [\\d.]+ s \\(([\\d]+)%\\)");
        assertTrue(training > 0 && Math.abs(scoring + training - 100) <= 1, out);
        // Random weights score random tokens at about log2(1024) = 10 bits each.
        double bits = figure(out, "^plain: .* ([\\d.]+) bits/token");
        assertTrue(bits > 9 && bits < 11, out);
    }

    @Test
    void takesTheTokensOfAValidationShardAndTheBytesOfATokenizer(@TempDir Path dir) throws IOException {
        SharedFiles.unxz(SharedFiles.root().resolve("data/datasets/fineweb10B_sp1024/fineweb_val_000000.bin.xz"), dir);
        CliResult result = run("--tokens", "2048", "--data", dir.toString(), "--tokenizer",
                SharedFiles.tokenizer(1024).toString());
        assertEquals(0, result.exit(), result.out() + result.err());
        String out = result.out();
        assertTrue(out.contains("2,048 targets (64 windows of 32) from " + dir + "'s validation split; bits per byte"
                + " from fineweb_1024_bpe.model"), out);
        for (String evaluation : List.of("plain:   2,048 tokens", "sliding: 2,048 scored tokens",
                "ttt:     2,048 scored tokens in 2 chunks of 1,024 (1 trained")) {
            assertTrue(out.lines().anyMatch(l -> l.startsWith(evaluation) && l.matches(".* val_bpb \\d+\\.\\d{4}")),
                    out);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-5"})
    void aTokenCountBelowOneIsAnError(String tokens) {
        CliResult result = run("--tokens", tokens);
        assertEquals(1, result.exit(), result.out() + result.err());
        assertTrue(result.err().contains("--tokens must be positive, got " + tokens), result.err());
    }

    @Test
    void fewerTokensThanOneWindowIsAnError() {
        CliResult result = run("--tokens", "31");
        assertEquals(1, result.exit(), result.out() + result.err());
        assertTrue(result.err().contains("--tokens 31 is less than one evaluation window of EVAL_SEQ_LEN = 32 tokens"),
                result.err());
    }
}
