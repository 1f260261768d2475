package io.pgolf.data.loader;

/**
 * numpy's {@code PCG64} bit generator: a 128-bit LCG with the XSL-RR output, seeded through {@link NumpySeedSequence},
 * including numpy's one-word buffer that serves a 64-bit draw as two 32-bit draws (low half first).
 */
public final class Pcg64 {
    private static final long MULTIPLIER_HIGH = 2549297995355413924L;
    private static final long MULTIPLIER_LOW = 4865540595714422341L;

    private long stateHigh;
    private long stateLow;
    private final long incrementHigh;
    private final long incrementLow;
    private boolean hasUint32;
    private int uinteger;

    /** {@code np.random.PCG64(seed)}. */
    public Pcg64(long seed) {
        long[] words = new NumpySeedSequence(seed).generateState64(4);
        // pcg_setseq_128_srandom_r(initstate = words[0..1], initseq = words[2..3]), high word first.
        incrementHigh = words[2] << 1 | words[3] >>> 63;
        incrementLow = words[3] << 1 | 1;
        stateHigh = 0;
        stateLow = 0;
        step();
        long low = stateLow + words[1];
        stateHigh += words[0] + (Long.compareUnsigned(low, stateLow) < 0 ? 1 : 0);
        stateLow = low;
        step();
    }

    /** {@code next_uint64}: a full 64-bit output (unsigned, in a long). */
    public long nextLong() {
        step();
        return Long.rotateRight(stateHigh ^ stateLow, (int) (stateHigh >>> 58));
    }

    /** {@code next_uint32}: the buffered high half of the last 64-bit draw if there is one, else a new draw's low half. */
    public int nextInt() {
        if (hasUint32) {
            hasUint32 = false;
            return uinteger;
        }
        long next = nextLong();
        hasUint32 = true;
        uinteger = (int) (next >>> 32);
        return (int) next;
    }

    /** {@code next_double}: 53 random bits scaled into [0, 1). */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** The 128-bit LCG state as {high, low}, for comparison with numpy's {@code bit_generator.state}. */
    long[] lcgState() {
        return new long[] {stateHigh, stateLow};
    }

    long[] lcgIncrement() {
        return new long[] {incrementHigh, incrementLow};
    }

    boolean hasBufferedUint32() {
        return hasUint32;
    }

    int bufferedUint32() {
        return uinteger;
    }

    /** state = state * MULTIPLIER + increment (mod 2^128). */
    private void step() {
        long low = stateLow * MULTIPLIER_LOW;
        long high = Math.unsignedMultiplyHigh(stateLow, MULTIPLIER_LOW) + stateLow * MULTIPLIER_HIGH
                + stateHigh * MULTIPLIER_LOW;
        long sumLow = low + incrementLow;
        stateHigh = high + incrementHigh + (Long.compareUnsigned(sumLow, low) < 0 ? 1 : 0);
        stateLow = sumLow;
    }
}
