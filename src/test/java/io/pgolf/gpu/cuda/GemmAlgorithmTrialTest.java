package io.pgolf.gpu.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The choice of a GEMM problem's algorithm from its timed calls, and the switch that turns timing off. */
class GemmAlgorithmTrialTest {

    @Test
    void theTimedCallsRunTheCandidatesInTurnForEachRound() {
        GemmAlgorithmTrial trial = new GemmAlgorithmTrial(3);
        assertEquals(3 * GemmAlgorithmTrial.ROUNDS, trial.calls());
        for (int call = 0; call < trial.calls(); call++) {
            assertEquals(call % 3, trial.candidateOfCall(call));
        }
        assertThrows(IndexOutOfBoundsException.class, () -> trial.candidateOfCall(trial.calls()));
    }

    @Test
    void aSingleCandidateNeedsNoTrial() {
        GemmAlgorithmTrial trial = new GemmAlgorithmTrial(1);
        assertEquals(0, trial.calls());
        assertEquals(0, trial.winner(new float[0]));
        assertThrows(IllegalArgumentException.class, () -> new GemmAlgorithmTrial(0));
    }

    @Test
    void eachCandidateCountsItsLeastTimeSoOneSlowCallDoesNotDecide() {
        GemmAlgorithmTrial trial = new GemmAlgorithmTrial(2);
        // Rounds of (candidate 0, candidate 1): candidate 1's first call waited for the host.
        float[] millis = {0.150f, 0.400f, 0.151f, 0.100f, 0.152f, 0.101f};
        assertArrayEquals(new float[] {0.150f, 0.100f}, trial.bestMillis(millis));
        assertEquals(1, trial.winner(millis));
    }

    @Test
    void anEarlierCandidateWinsANearTieAndLosesAClearDifference() {
        GemmAlgorithmTrial trial = new GemmAlgorithmTrial(3);
        float[] nearTie = times(trial, 0.1010f, 0.1200f, 0.1000f);
        assertEquals(0, trial.winner(nearTie));
        float[] clear = times(trial, 0.1100f, 0.1200f, 0.1000f);
        assertEquals(2, trial.winner(clear));
    }

    @Test
    void untimedCallsCountAsNoneAndWrongCountsAreRefused() {
        GemmAlgorithmTrial trial = new GemmAlgorithmTrial(2);
        float[] millis = {Float.NaN, 0.2f, 0f, 0.3f, -1f, 0.25f};
        assertArrayEquals(new float[] {Float.POSITIVE_INFINITY, 0.2f}, trial.bestMillis(millis));
        assertEquals(1, trial.winner(millis));
        assertEquals(0, trial.winner(new float[] {0f, 0f, 0f, 0f, 0f, 0f}));
        assertEquals("5 times for a trial of 6 calls", assertThrows(IllegalArgumentException.class,
                () -> trial.winner(new float[5])).getMessage());
    }

    @Test
    void theEnvironmentSwitchesTimingOnOrOff() {
        for (String on : new String[] {null, "", "on", "1", "true", " ON "}) {
            assertEquals(GemmAlgorithmSelection.TIMED, GemmAlgorithmSelection.of(on), String.valueOf(on));
        }
        for (String off : new String[] {"off", "0", "false", "Off"}) {
            assertEquals(GemmAlgorithmSelection.HEURISTIC, GemmAlgorithmSelection.of(off), off);
        }
        assertEquals("PGOLF_GEMM_AUTOTUNE must be on or off, got 'fast'", assertThrows(
                IllegalArgumentException.class, () -> GemmAlgorithmSelection.of("fast")).getMessage());
        assertEquals(1, GemmAlgorithmSelection.HEURISTIC.candidatesRequested());
        assertTrue(GemmAlgorithmSelection.TIMED.candidatesRequested() > 1);
    }

    /** Every round gives each candidate the same time. */
    private static float[] times(GemmAlgorithmTrial trial, float... perCandidate) {
        float[] millis = new float[trial.calls()];
        for (int call = 0; call < millis.length; call++) {
            millis[call] = perCandidate[trial.candidateOfCall(call)];
        }
        return millis;
    }
}
