package io.pgolf.data.loader;

/**
 * numpy's {@code SeedSequence} for a non-negative integer entropy and no spawn key: the same hash mixing into a
 * pool of four 32-bit words and the same {@code generate_state}, so that seeds give numpy's streams bit for bit.
 */
public final class NumpySeedSequence {
    private static final int POOL_SIZE = 4;
    private static final int INIT_A = 0x43b0d7e5;
    private static final int MULT_A = 0x931e8875;
    private static final int INIT_B = 0x8b51f9dd;
    private static final int MULT_B = 0x58f38ded;
    private static final int MIX_MULT_L = 0xca01f9dd;
    private static final int MIX_MULT_R = 0x4973f715;
    private static final int XSHIFT = 16;

    private final int[] pool;

    public NumpySeedSequence(long entropy) {
        if (entropy < 0) {
            throw new IllegalArgumentException("entropy must be non-negative, got " + entropy);
        }
        this.pool = mixEntropy(toUint32Words(entropy));
    }

    /** {@code generate_state(words, np.uint32)}. */
    public int[] generateState32(int words) {
        int[] state = new int[words];
        int hashConst = INIT_B;
        for (int i = 0; i < words; i++) {
            int value = pool[i % POOL_SIZE] ^ hashConst;
            hashConst *= MULT_B;
            value *= hashConst;
            value ^= value >>> XSHIFT;
            state[i] = value;
        }
        return state;
    }

    /** {@code generate_state(words, np.uint64)}: pairs of 32-bit words read little-endian. */
    public long[] generateState64(int words) {
        int[] halves = generateState32(2 * words);
        long[] state = new long[words];
        for (int i = 0; i < words; i++) {
            state[i] = Integer.toUnsignedLong(halves[2 * i]) | (long) halves[2 * i + 1] << 32;
        }
        return state;
    }

    /** An integer as numpy coerces it: its 32-bit words, least significant first, and {@code [0]} for zero. */
    private static int[] toUint32Words(long entropy) {
        return (entropy >>> 32) == 0 ? new int[] {(int) entropy} : new int[] {(int) entropy, (int) (entropy >>> 32)};
    }

    private static int[] mixEntropy(int[] entropy) {
        int[] mixer = new int[POOL_SIZE];
        int[] hashConst = {INIT_A};
        for (int i = 0; i < POOL_SIZE; i++) {
            mixer[i] = hashmix(i < entropy.length ? entropy[i] : 0, hashConst);
        }
        for (int src = 0; src < POOL_SIZE; src++) {
            for (int dst = 0; dst < POOL_SIZE; dst++) {
                if (src != dst) {
                    mixer[dst] = mix(mixer[dst], hashmix(mixer[src], hashConst));
                }
            }
        }
        for (int src = POOL_SIZE; src < entropy.length; src++) {
            for (int dst = 0; dst < POOL_SIZE; dst++) {
                mixer[dst] = mix(mixer[dst], hashmix(entropy[src], hashConst));
            }
        }
        return mixer;
    }

    /** Hashes {@code value} and advances the running multiplier held in {@code hashConst[0]}. */
    private static int hashmix(int value, int[] hashConst) {
        value ^= hashConst[0];
        hashConst[0] *= MULT_A;
        value *= hashConst[0];
        return value ^ (value >>> XSHIFT);
    }

    private static int mix(int x, int y) {
        int result = MIX_MULT_L * x - MIX_MULT_R * y;
        return result ^ (result >>> XSHIFT);
    }
}
