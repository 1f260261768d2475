package io.pgolf.gpu.cuda;

import java.util.Arrays;

/**
 * How one GEMM problem picks among the heuristic's candidate algorithms: {@link #calls()} timed calls run the
 * candidates in turn, {@value #ROUNDS} rounds of one call each (turns spread any drift of the clocks over all of
 * them); a candidate's time is its least over the rounds. The winner is the earliest candidate, in the heuristic's
 * order, within {@value #MARGIN} of the fastest, so that near ties, whose order timing noise decides, go the same way
 * from run to run.
 */
final class GemmAlgorithmTrial {
    static final int ROUNDS = 3;
    static final double MARGIN = 0.02;

    private final int candidates;

    GemmAlgorithmTrial(int candidates) {
        if (candidates < 1) {
            throw new IllegalArgumentException("a trial needs at least one candidate, got " + candidates);
        }
        this.candidates = candidates;
    }

    /** Timed calls before the choice: none when there is only one candidate. */
    int calls() {
        return candidates == 1 ? 0 : candidates * ROUNDS;
    }

    /** The candidate that timed call {@code call} (0-based, below {@link #calls()}) runs. */
    int candidateOfCall(int call) {
        if (call < 0 || call >= calls()) {
            throw new IndexOutOfBoundsException("call " + call + " of a trial of " + calls() + " calls");
        }
        return call % candidates;
    }

    /** Each candidate's least time over its calls; a time that is not a positive number counts as none. */
    float[] bestMillis(float[] millisPerCall) {
        if (millisPerCall.length != calls()) {
            throw new IllegalArgumentException(millisPerCall.length + " times for a trial of " + calls() + " calls");
        }
        float[] best = new float[candidates];
        Arrays.fill(best, Float.POSITIVE_INFINITY);
        for (int call = 0; call < millisPerCall.length; call++) {
            float t = millisPerCall[call];
            if (t > 0 && t < best[candidateOfCall(call)]) {
                best[candidateOfCall(call)] = t;
            }
        }
        return best;
    }

    /** The chosen candidate given each call's time (see the class comment); candidate 0 when nothing was timed. */
    int winner(float[] millisPerCall) {
        if (calls() == 0) {
            return 0;
        }
        float[] best = bestMillis(millisPerCall);
        float fastest = Float.POSITIVE_INFINITY;
        for (float t : best) {
            fastest = Math.min(fastest, t);
        }
        for (int i = 0; i < best.length; i++) {
            if (best[i] <= fastest * (1 + MARGIN)) {
                return i;
            }
        }
        return 0;
    }
}
