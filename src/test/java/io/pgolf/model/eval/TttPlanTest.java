package io.pgolf.model.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TttPlanTest {
    /** Every window lies in exactly one chunk, the reference's min((ws + s) // C, chunks - 1), in window order. */
    @ParameterizedTest(name = "{0} targets, seqLen {1}, stride {2}, chunks of {3}")
    @CsvSource({"2048, 32, 8, 512", "2048, 30, 10, 512", "300, 32, 8, 4", "100, 32, 8, 1000", "5000, 64, 16, 333"})
    void eachWindowBelongsToTheChunkOfItsFirstScoredPosition(int targets, int seqLen, int stride, int chunkTokens) {
        TttPlan plan = TttPlan.of(new SlidingWindows(targets, seqLen, stride), chunkTokens);
        int chunks = (targets + chunkTokens - 1) / chunkTokens;
        assertEquals(chunks, plan.chunkCount());
        List<Integer> walked = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            for (int ws : plan.windowsOf(c)) {
                int s = ws == 0 ? 0 : seqLen - stride;
                assertEquals(Math.min((ws + s) / chunkTokens, chunks - 1), c, "chunk of window " + ws);
                walked.add(ws);
            }
        }
        assertEquals(plan.windows().starts(), walked);
        assertEquals(plan.scoredChunks(), plan.scoredChunks().stream().filter(c -> !plan.windowsOf(c).isEmpty())
                .toList());
    }

    @Test
    void chunksWithoutWindowsAreSkippedEvenTheLast() {
        // Stride 10 ends the windows' first scored positions at 2040, so chunk 4 = [2048, 2049) holds no window.
        TttPlan lastEmpty = TttPlan.of(new SlidingWindows(2049, 30, 10), 512);
        assertEquals(5, lastEmpty.chunkCount());
        assertEquals(List.of(0, 1, 2, 3), lastEmpty.scoredChunks());
        assertTrue(lastEmpty.isLast(4));
        assertTrue(!lastEmpty.isLast(3));
        // Chunks of 4 positions: window 0 scores 0..31, each later window starts scoring at ws + 24.
        TttPlan sparse = TttPlan.of(new SlidingWindows(64, 32, 8), 4);
        assertEquals(16, sparse.chunkCount());
        assertEquals(List.of(0, 8, 10, 12, 14), sparse.scoredChunks());
        assertEquals(List.of(0), sparse.windowsOf(0));
        assertEquals(List.of(), sparse.windowsOf(1));
    }

    @Test
    void chunkBoundsSequencesAndCosineLearningRate() {
        TttPlan plan = TttPlan.of(new SlidingWindows(2000, 32, 8), 512);
        assertEquals(4, plan.chunkCount());
        assertEquals(1536, plan.chunkStart(3));
        assertEquals(2000, plan.chunkEnd(3));
        assertEquals(16, plan.trainingSequences(0));
        assertEquals(14, plan.trainingSequences(3));
        assertEquals(0.005, plan.learningRate(0, 0.005), 1e-18);
        assertEquals(0.00375, plan.learningRate(1, 0.005), 1e-17);
        assertEquals(0.00125, plan.learningRate(2, 0.005), 1e-17);
        assertEquals(0.0, plan.learningRate(3, 0.005), 1e-18);
        TttPlan single = TttPlan.of(new SlidingWindows(100, 32, 8), 512);
        assertEquals(1, single.chunkCount());
        assertEquals(0.005, single.learningRate(0, 0.005), 0.0);
        assertEquals("no chunk 1 (there are 1)",
                assertThrows(IllegalArgumentException.class, () -> single.windowsOf(1)).getMessage());
    }
}
