package io.pgolf.model.eval;

import io.pgolf.data.SafeTensors;
import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.TinyReference;
import io.pgolf.protocol.Tokens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SlidingEvaluationTest {
    /** Tokens whose ids are their positions, so a scorer can tell which target it is shown. */
    private static Tokens positions(int count) {
        return Tokens.of(IntStream.range(0, count).toArray());
    }

    /**
     * Runs the evaluation once per target q with a scorer whose loss is 1 at q, 0 at every other real target and NaN
     * at padding (target 0: position 0 is never a target), so each run's sum counts how often q was scored.
     */
    @ParameterizedTest(name = "{0} targets, seqLen {1}, stride {2}, batches of {3}")
    @CsvSource({"100, 32, 8, 4", "96, 32, 8, 32", "30, 32, 8, 2", "77, 32, 5, 3", "64, 32, 32, 1", "50, 16, 1, 7",
            "300, 32, 8, 32"})
    void everyTargetIsScoredExactlyOnceAndPaddingNever(int targets, int seqLen, int stride, int batchSeqs) {
        Tokens tokens = positions(targets + 1);
        ByteTables tables = EvalFixtures.tables();
        SlidingEvaluation evaluation = new SlidingEvaluation(tokens, seqLen, stride, batchSeqs, tables);
        for (int q = 1; q <= targets; q++) {
            int counted = q;
            List<Integer> batches = new ArrayList<>();
            BitsPerByte.Totals totals = evaluation.run((inputs, next, batch, len) -> {
                batches.add(batch);
                float[] losses = new float[next.length];
                for (int i = 0; i < next.length; i++) {
                    losses[i] = next[i] == 0 ? Float.NaN : next[i] == counted ? 1f : 0f;
                }
                return losses;
            });
            assertEquals(1.0, totals.nats(), 0.0, "times target " + q + " was scored");
            assertEquals(targets, totals.tokens());
            int windows = evaluation.windows().count();
            assertEquals(Math.ceilDiv(windows, batchSeqs), batches.size());
            assertTrue(batches.stream().allMatch(b -> b <= batchSeqs));
        }
        long bytes = IntStream.rangeClosed(1, targets).map(t -> tables.tokenBytes(t, t - 1)).sum();
        assertEquals(bytes, evaluation.run((inputs, next, batch, len) -> new float[next.length]).bytes());
    }

    /** The reference's expressions: starts in range(0, total, stride) with ws + context < total; wlen; s. */
    @ParameterizedTest(name = "{0} targets, seqLen {1}, stride {2}")
    @CsvSource({"100, 32, 8", "2048, 32, 8", "30, 32, 8", "77, 32, 5", "64, 32, 32", "50, 16, 1"})
    void windowsAreTheReferences(int targets, int seqLen, int stride) {
        SlidingWindows windows = new SlidingWindows(targets, seqLen, stride);
        int context = seqLen - stride;
        List<Integer> expected = new ArrayList<>();
        for (int ws = 0; ws < targets; ws += stride) {
            if (ws + context < targets) {
                expected.add(ws);
            }
        }
        assertEquals(expected, windows.starts());
        assertEquals(expected.size(), windows.count());
        for (int ws : expected) {
            assertEquals(Math.min(ws + seqLen, targets) - ws, windows.length(ws));
            assertEquals(ws == 0 ? 0 : context, windows.firstScored(ws));
        }
    }

    @Test
    void refusesGeometriesWithoutWindowsAndStartsThatAreNotWindows() {
        assertEquals("24 targets leave no window: need more than seqLen - stride = 24",
                assertThrows(IllegalArgumentException.class, () -> new SlidingWindows(24, 32, 8)).getMessage());
        assertEquals("need 0 < stride <= seqLen, got stride 33, seqLen 32",
                assertThrows(IllegalArgumentException.class, () -> new SlidingWindows(100, 32, 33)).getMessage());
        SlidingWindows windows = new SlidingWindows(100, 32, 8);
        assertEquals("no window starts at 4 (stride 8, 10 windows)",
                assertThrows(IllegalArgumentException.class, () -> windows.length(4)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> windows.firstScored(80));
    }

    /**
     * A short last window is padded to seqLen with token 0, as in the reference; with the real model its scored
     * losses equal those of the window run alone at its own length, because the model is causal.
     */
    @Test
    void aPaddedShortWindowScoresAsAtItsOwnLength(@TempDir Path dir) throws Exception {
        TinyReference reference = TinyReference.load();
        int seqLen = reference.evalSeqLen();
        int stride = reference.evalStride();
        Tokens tokens = EvalFixtures.validationPrefix(dir, seqLen, 101);
        SlidingEvaluation evaluation = new SlidingEvaluation(tokens, seqLen, stride, 4, EvalFixtures.tables());
        SlidingWindows windows = evaluation.windows();
        int last = windows.starts().getLast();
        int length = windows.length(last);
        assertTrue(length < seqLen, "the geometry must end on a short window, got length " + length);
        try (CpuBackend backend = new CpuBackend(2);
             SafeTensors fixture = SafeTensors.open(TinyReference.tensors());
             Gpt model = EvalFixtures.model(backend, reference, fixture, "step1.")) {
            GptScorer scorer = new GptScorer(model);
            List<float[]> calls = new ArrayList<>();
            evaluation.run((inputs, next, batch, len) -> {
                float[] losses = scorer.tokenLosses(inputs, next, batch, len);
                calls.add(losses);
                return losses;
            });
            float[] lastBatch = calls.getLast();
            float[] padded = Arrays.copyOfRange(lastBatch, lastBatch.length - seqLen, lastBatch.length - seqLen + length);
            int[] inputs = IntStream.range(last, last + length).map(tokens::get).toArray();
            int[] next = IntStream.range(last + 1, last + length + 1).map(tokens::get).toArray();
            float[] alone = scorer.tokenLosses(inputs, next, 1, length);
            double worst = 0;
            for (int t = windows.firstScored(last); t < length; t++) {
                worst = Math.max(worst, Math.abs(padded[t] - alone[t]) / Math.abs(alone[t]));
            }
            System.out.printf("sliding: padded vs own-length last window (length %d): worst relative difference %.3e%n",
                    length, worst);
            assertTrue(worst <= 1e-6, "padded window differs by " + worst);
        }
    }
}
