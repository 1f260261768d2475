package io.pgolf.protocol;

import java.util.Arrays;

/**
 * An immutable run of token ids (each fits in uint16, as in the challenge's shards).
 * Messages carry tokens through this type so that no receiver can change what a sender sent.
 */
public final class Tokens {
    private final char[] ids;

    private Tokens(char[] ids) {
        this.ids = ids;
    }

    /** Copies {@code ids}; every value must lie in [0, 65535]. */
    public static Tokens of(int[] ids, int from, int to) {
        char[] copy = new char[to - from];
        for (int i = from; i < to; i++) {
            int id = ids[i];
            if (id < 0 || id > 0xFFFF) {
                throw new IllegalArgumentException("token id " + id + " at index " + i + " does not fit in uint16");
            }
            copy[i - from] = (char) id;
        }
        return new Tokens(copy);
    }

    public static Tokens of(int... ids) {
        return of(ids, 0, ids.length);
    }

    /** Copies {@code ids}, read as unsigned 16-bit values. */
    public static Tokens ofUnsigned(char[] ids) {
        return new Tokens(ids.clone());
    }

    /** Takes ownership of {@code ids}; for decoders that just built the array and keep no reference. */
    public static Tokens adopt(char[] ids) {
        return new Tokens(ids);
    }

    public int length() {
        return ids.length;
    }

    public int get(int index) {
        return ids[index];
    }

    public int[] toIntArray() {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = ids[i];
        }
        return out;
    }

    /** A copy of the raw unsigned 16-bit values. */
    public char[] toCharArray() {
        return ids.clone();
    }

    /** Copies {@code length} ids starting at {@code from} into {@code dest} at {@code destPos}. */
    public void copyTo(int from, char[] dest, int destPos, int length) {
        System.arraycopy(ids, from, dest, destPos, length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tokens t && Arrays.equals(ids, t.ids);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ids);
    }

    @Override
    public String toString() {
        return "Tokens[" + ids.length + "]";
    }
}
