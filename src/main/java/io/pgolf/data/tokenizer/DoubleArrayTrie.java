package io.pgolf.data.tokenizer;

/**
 * A read-only darts-clone double array, the trie format of SentencePiece's precompiled normalization
 * rules. Each 32-bit unit packs a label (low byte; bit 31 marks a leaf), a has-leaf flag (bit 8) and an
 * offset to its children (bits 10..31, scaled by 256 when bit 9 is set); a leaf unit holds a 31-bit value.
 */
final class DoubleArrayTrie {
    private static final int BLOCK = 256;
    private static final int LEAF_BIT = 1 << 31;

    private final int[] units;

    private DoubleArrayTrie(int[] units) {
        this.units = units;
    }

    /**
     * Reads {@code length} bytes of little-endian units. The array is checked so that every walk stays in
     * bounds: children of a node lie in the 256-unit block its offset points at, so it suffices that the
     * array is whole blocks and that every non-leaf offset lands inside it.
     */
    static DoubleArrayTrie fromLittleEndian(byte[] blob, int from, int length) {
        if (length % 4 != 0 || length / 4 < BLOCK || (length / 4) % BLOCK != 0) {
            throw new IllegalArgumentException(
                    "double-array trie of " + length + " bytes is not a whole number of 256-unit blocks");
        }
        int[] units = new int[length / 4];
        for (int i = 0; i < units.length; i++) {
            int p = from + 4 * i;
            units[i] = (blob[p] & 0xFF) | (blob[p + 1] & 0xFF) << 8 | (blob[p + 2] & 0xFF) << 16
                    | (blob[p + 3] & 0xFF) << 24;
        }
        for (int i = 0; i < units.length; i++) {
            if ((units[i] & LEAF_BIT) == 0 && (i ^ offset(units[i])) >= units.length) {
                throw new IllegalArgumentException("double-array trie unit " + i + " points outside the array");
            }
        }
        return new DoubleArrayTrie(units);
    }

    /** Largest value stored in any leaf, or -1 when the trie holds no key; lets callers validate values. */
    int maxValue() {
        int max = -1;
        for (int unit : units) {
            if ((unit & LEAF_BIT) != 0) {
                max = Math.max(max, unit & ~LEAF_BIT);
            }
        }
        return max;
    }

    /**
     * The longest key that is a prefix of {@code key[from, to)}: its length in the high 32 bits and its
     * value in the low 32 bits, or -1 when no key matches.
     */
    long longestPrefix(byte[] key, int from, int to) {
        long best = -1;
        int node = offset(units[0]);
        for (int i = from; i < to; i++) {
            int label = key[i] & 0xFF;
            node ^= label;
            int unit = units[node];
            if ((unit & (LEAF_BIT | 0xFF)) != label) {
                break;
            }
            node ^= offset(unit);
            if (((unit >>> 8) & 1) != 0) {
                best = (long) (i + 1 - from) << 32 | (units[node] & ~LEAF_BIT);
            }
        }
        return best;
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }
}
