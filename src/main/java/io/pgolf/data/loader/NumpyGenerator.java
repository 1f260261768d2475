package io.pgolf.data.loader;

/**
 * The methods of numpy's {@code np.random.Generator} that the reference training loader calls, reproduced bit for bit
 * over {@link Pcg64}: same bounded-integer algorithms, same order of draws, same float arithmetic.
 */
public final class NumpyGenerator {
    private static final long UINT32_MAX = 0xFFFF_FFFFL;
    /** numpy's tolerance for probabilities that should sum to one: sqrt(float64 eps). */
    private static final double PROBABILITY_SUM_TOLERANCE = Math.sqrt(Math.ulp(1.0));

    private final Pcg64 bits;

    public NumpyGenerator(Pcg64 bits) {
        this.bits = bits;
    }

    /** {@code np.random.Generator(np.random.PCG64(seed))}. */
    public static NumpyGenerator seeded(long seed) {
        return new NumpyGenerator(new Pcg64(seed));
    }

    Pcg64 bits() {
        return bits;
    }

    /**
     * {@code integers(high)} with numpy's default int64 dtype: a value in [0, high) drawn by Lemire's method
     * ({@code random_bounded_uint64_fill}), on 32-bit draws when high - 1 fits in 32 bits.
     */
    public long integers(long high) {
        if (high <= 0) {
            throw new IllegalArgumentException("high must be positive (low 0 >= high " + high + ")");
        }
        long range = high - 1;
        if (range == 0) {
            return 0;
        }
        if (range == UINT32_MAX) {
            return Integer.toUnsignedLong(bits.nextInt());
        }
        return range < UINT32_MAX ? lemire32(range) : lemire64(range);
    }

    /** {@code random()}: a double in [0, 1). */
    public double random() {
        return bits.nextDouble();
    }

    /** {@code permutation(n)}: arange(n) shuffled by Fisher-Yates from the back, j drawn by {@code random_interval}. */
    public int[] permutation(int n) {
        int[] values = new int[Math.max(n, 0)];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        for (int i = values.length - 1; i >= 1; i--) {
            int j = (int) interval(i);
            int swapped = values[j];
            values[j] = values[i];
            values[i] = swapped;
        }
        return values;
    }

    /**
     * {@code choice(p.length, p=p)}: cdf = cumsum(p) / cdf[-1], one uniform double u, and the index
     * {@code searchsorted(cdf, u, side='right')}, i.e. the number of cdf entries {@code <= u}.
     */
    public int choice(double[] p) {
        checkProbabilities(p);
        double[] cdf = new double[p.length];
        double running = 0;
        for (int i = 0; i < p.length; i++) {
            running = i == 0 ? p[0] : running + p[i];
            cdf[i] = running;
        }
        double last = cdf[cdf.length - 1];
        for (int i = 0; i < cdf.length; i++) {
            cdf[i] /= last;
        }
        double u = random();
        int low = 0;
        int high = cdf.length;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (cdf[mid] <= u) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    /** {@code buffered_bounded_lemire_uint32}: a value in [0, range] for range < 2^32 - 1. */
    private long lemire32(long range) {
        long exclusive = range + 1;
        long m = Integer.toUnsignedLong(bits.nextInt()) * exclusive;
        long leftover = m & UINT32_MAX;
        if (leftover < exclusive) {
            long threshold = (UINT32_MAX - range) % exclusive;
            while (leftover < threshold) {
                m = Integer.toUnsignedLong(bits.nextInt()) * exclusive;
                leftover = m & UINT32_MAX;
            }
        }
        return m >>> 32;
    }

    /** {@code bounded_lemire_uint64}: a value in [0, range] for 2^32 - 1 < range < 2^64 - 1, on a 128-bit product. */
    private long lemire64(long range) {
        long exclusive = range + 1;
        long draw = bits.nextLong();
        long leftover = draw * exclusive;
        if (Long.compareUnsigned(leftover, exclusive) < 0) {
            long threshold = Long.remainderUnsigned(-1L - range, exclusive);
            while (Long.compareUnsigned(leftover, threshold) < 0) {
                draw = bits.nextLong();
                leftover = draw * exclusive;
            }
        }
        return Math.unsignedMultiplyHigh(draw, exclusive);
    }

    /** {@code random_interval}: a value in [0, max] by masked rejection, on 32-bit draws when max fits in 32 bits. */
    private long interval(long max) {
        long mask = max;
        mask |= mask >>> 1;
        mask |= mask >>> 2;
        mask |= mask >>> 4;
        mask |= mask >>> 8;
        mask |= mask >>> 16;
        mask |= mask >>> 32;
        long value;
        if (max <= UINT32_MAX) {
            do {
                value = Integer.toUnsignedLong(bits.nextInt()) & mask;
            } while (value > max);
        } else {
            do {
                value = bits.nextLong() & mask;
            } while (Long.compareUnsigned(value, max) > 0);
        }
        return value;
    }

    /** The checks numpy's choice makes before sampling (its sum is Kahan-compensated). */
    private static void checkProbabilities(double[] p) {
        if (p.length == 0) {
            throw new IllegalArgumentException("a cannot be empty unless no samples are taken");
        }
        double sum = p[0];
        double compensation = 0;
        for (int i = 1; i < p.length; i++) {
            double y = p[i] - compensation;
            double t = sum + y;
            compensation = (t - sum) - y;
            sum = t;
        }
        if (Double.isNaN(sum)) {
            throw new IllegalArgumentException("probabilities contain NaN");
        }
        for (int i = 0; i < p.length; i++) {
            if (p[i] < 0) {
                throw new IllegalArgumentException("probability " + i + " is negative: " + p[i]);
            }
        }
        if (Math.abs(sum - 1.0) > PROBABILITY_SUM_TOLERANCE) {
            throw new IllegalArgumentException("probabilities do not sum to 1: sum is " + sum);
        }
    }
}
