package io.pgolf.data.tokenizer;

import java.util.Arrays;

/**
 * Finds a piece id from a run of UTF-8 bytes without building a String: open addressing over a
 * polynomial hash. The hash of a concatenation follows from the hashes of its parts
 * ({@link #concat}), so BPE can look up a merge candidate in O(1) before touching its bytes.
 */
final class PieceTable {
    private static final long BASE = 0x9E3779B97F4A7C15L;

    private final byte[][] pieces;
    private final long[] slotHashes;
    private final int[] slotIds;
    private final int mask;
    private final int maxPieceLength;
    private final long[] powers;

    /** {@code pieces} must be distinct and non-empty; the caller has checked both. */
    PieceTable(byte[][] pieces) {
        this.pieces = pieces;
        int capacity = Integer.highestOneBit(Math.max(4, pieces.length) * 4 - 1) << 1;
        this.slotHashes = new long[capacity];
        this.slotIds = new int[capacity];
        this.mask = capacity - 1;
        Arrays.fill(slotIds, -1);
        int longest = 0;
        for (byte[] piece : pieces) {
            longest = Math.max(longest, piece.length);
        }
        this.maxPieceLength = longest;
        this.powers = new long[longest + 1];
        powers[0] = 1;
        for (int i = 1; i <= longest; i++) {
            powers[i] = powers[i - 1] * BASE;
        }
        for (int id = 0; id < pieces.length; id++) {
            long hash = hash(pieces[id], 0, pieces[id].length);
            int slot = slotOf(hash);
            while (slotIds[slot] >= 0) {
                slot = (slot + 1) & mask;
            }
            slotHashes[slot] = hash;
            slotIds[slot] = id;
        }
    }

    /** Length in bytes of the longest piece; no longer byte run can be a piece. */
    int maxPieceLength() {
        return maxPieceLength;
    }

    static long hash(byte[] bytes, int from, int length) {
        long hash = 0;
        for (int i = from; i < from + length; i++) {
            hash = hash * BASE + (bytes[i] & 0xFF) + 1;
        }
        return hash;
    }

    /** Hash of left + right, given right's length, which must not exceed {@link #maxPieceLength()}. */
    long concat(long leftHash, long rightHash, int rightLength) {
        return leftHash * powers[rightLength] + rightHash;
    }

    /** Id of the piece equal to {@code text[from, from + length)}, whose hash is {@code hash}; -1 if none. */
    int find(long hash, byte[] text, int from, int length) {
        if (length > maxPieceLength) {
            return -1;
        }
        for (int slot = slotOf(hash); ; slot = (slot + 1) & mask) {
            int id = slotIds[slot];
            if (id < 0) {
                return -1;
            }
            if (slotHashes[slot] == hash && sameBytes(pieces[id], text, from, length)) {
                return id;
            }
        }
    }

    /** A plain loop: pieces are short, and Arrays.equals's range checks and setup cost more here. */
    private static boolean sameBytes(byte[] piece, byte[] text, int from, int length) {
        if (piece.length != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (piece[i] != text[from + i]) {
                return false;
            }
        }
        return true;
    }

    int find(byte[] text, int from, int length) {
        return length > maxPieceLength ? -1 : find(hash(text, from, length), text, from, length);
    }

    private int slotOf(long hash) {
        long mixed = (hash ^ (hash >>> 29)) * 0xBF58476D1CE4E5B9L;
        return (int) (mixed >>> 32) & mask;
    }
}
