package io.pgolf.gpu.parity;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The host values of one {@link OpCase}: random draws that repeat exactly in every run of the case (the stream
 * restarts from the case's seed before each run, and a case draws in the same order each time), and values
 * computed once on the reference (a forward's outputs that its backward reads), which every run then uploads alike.
 */
public final class CaseInputs {
    private final long seed;
    private final Supplier<Side> referenceSide;
    private final Map<String, Object> computed = new HashMap<>();
    private SplittableRandom random;

    CaseInputs(long seed, Supplier<Side> referenceSide) {
        this.seed = seed;
        this.referenceSide = referenceSide;
        restart();
    }

    /** Back to the first draw: called before each run of the case. */
    void restart() {
        random = new SplittableRandom(seed);
    }

    /** n values from a normal distribution of mean 0 and standard deviation std. */
    public float[] gaussian(int n, double std) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * std);
        }
        return values;
    }

    public float[] gaussian(int n) {
        return gaussian(n, 1.0);
    }

    /** n values uniform in [from, to). */
    public float[] uniform(int n, double from, double to) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextDouble(from, to);
        }
        return values;
    }

    /** n integers uniform in [0, bound). */
    public int[] ints(int n, int bound) {
        return random.ints(n, 0, bound).toArray();
    }

    /**
     * The result of {@code onReference}, computed on a fresh reference side the first time it is asked for under
     * {@code key} and reused by the case's later runs. It must not draw random values: the runs must draw alike.
     */
    @SuppressWarnings("unchecked")
    public <T> T fromReference(String key, Function<Side, T> onReference) {
        Object value = computed.get(key);
        if (value == null) {
            try (Side side = referenceSide.get()) {
                value = onReference.apply(side);
            }
            computed.put(key, value);
        }
        return (T) value;
    }
}
