package io.pgolf.data.artifact;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The reference's byte shuffle ({@code _byte_shuffle} / {@code _byte_unshuffle}): the bytes at offsets 0, s, 2s, ...
 * then those at 1, 1+s, ..., up to s-1, behind a 5-byte header {@code "BSHF"} + the stride s. With stride 2, the
 * low and high bytes of float16 values land in separate runs, which the compressor models better.
 *
 * <p>As in the reference, data shorter than the stride (or stride below 2) is returned unchanged, without header,
 * and unshuffling data that does not start with the header returns it unchanged.
 */
public final class ByteShuffle {
    /** The header's first four bytes. */
    static final byte[] MAGIC = "BSHF".getBytes(StandardCharsets.US_ASCII);
    /** Magic plus the stride byte. */
    public static final int HEADER_BYTES = MAGIC.length + 1;

    private ByteShuffle() {
    }

    /** The shuffled bytes with their header; {@code stride} must fit in one unsigned byte. */
    public static byte[] shuffle(byte[] data, int stride) {
        if (stride > 255) {
            throw new IllegalArgumentException("stride " + stride + " does not fit the header's one byte");
        }
        if (stride <= 1 || data.length < stride) {
            return data.clone();
        }
        byte[] out = new byte[HEADER_BYTES + data.length];
        System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
        out[MAGIC.length] = (byte) stride;
        int dest = HEADER_BYTES;
        for (int pos = 0; pos < stride; pos++) {
            for (int i = pos; i < data.length; i += stride) {
                out[dest++] = data[i];
            }
        }
        return out;
    }

    /** Inverts {@link #shuffle}: run {@code pos} holds {@code n / s} bytes, one more when {@code pos < n % s}. */
    public static byte[] unshuffle(byte[] data) {
        if (data.length < HEADER_BYTES || !Arrays.equals(data, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            return data.clone();
        }
        int stride = data[MAGIC.length] & 0xFF;
        if (stride < 2) {
            return Arrays.copyOfRange(data, HEADER_BYTES, data.length);
        }
        int n = data.length - HEADER_BYTES;
        byte[] out = new byte[n];
        int src = HEADER_BYTES;
        for (int pos = 0; pos < stride; pos++) {
            for (int i = pos; i < n; i += stride) {
                out[i] = data[src++];
            }
        }
        return out;
    }
}
