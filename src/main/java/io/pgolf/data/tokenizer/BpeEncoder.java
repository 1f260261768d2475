package io.pgolf.data.tokenizer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * SentencePiece's BPE segmentation of normalized text, id for id: start from characters (user-defined
 * pieces kept whole and frozen), repeatedly merge the adjacent pair whose concatenation is the
 * highest-scoring mergeable piece (leftmost on ties), split merged UNUSED pieces back into the parts
 * they were made of, and spell pieces outside the vocabulary as byte pieces (or one unknown id per run
 * when the model has no byte fallback).
 *
 * <p>Immutable; each call works in its own arrays, so concurrent calls are safe.
 */
final class BpeEncoder {
    private static final byte[] SPACE_SYMBOL = {(byte) 0xE2, (byte) 0x96, (byte) 0x81};

    private final PieceTable table;
    private final PieceType[] types;
    /** Heap priority of each piece: lower sorts first, so higher scores get lower values. */
    private final int[] priorities;
    private final int[] pieceLengths;
    private final long[] pieceHashes;
    private final UserSymbols userSymbols;
    private final int unknownId;
    /** Ids of the pieces {@code <0x00>..<0xFF>}, or null when the model has no byte fallback. */
    private final int[] byteIds;
    private final boolean hasUnused;
    /**
     * True when no piece that merging can produce holds U+2581 after its first character, and no piece is
     * UNUSED: then no merge crosses the start of a U+2581, and the text can be segmented word by word
     * (small agendas) with the same result as in one piece.
     */
    private final boolean wordsAreIndependent;

    BpeEncoder(byte[][] pieces, float[] scores, PieceType[] types, PieceTable table, UserSymbols userSymbols,
               int unknownId, int[] byteIds) {
        this.table = table;
        this.types = types;
        this.userSymbols = userSymbols;
        this.unknownId = unknownId;
        this.byteIds = byteIds;
        this.priorities = new int[pieces.length];
        this.pieceLengths = new int[pieces.length];
        this.pieceHashes = new long[pieces.length];
        boolean unused = false;
        boolean innerSpaceSymbol = false;
        for (int id = 0; id < pieces.length; id++) {
            priorities[id] = ~orderedBits(scores[id]);
            pieceLengths[id] = pieces[id].length;
            pieceHashes[id] = PieceTable.hash(pieces[id], 0, pieces[id].length);
            unused |= types[id] == PieceType.UNUSED;
            if (types[id].isMergeable()) {
                for (int at = 1; at + SPACE_SYMBOL.length <= pieces[id].length; at++) {
                    innerSpaceSymbol |= startsWithSpaceSymbol(pieces[id], at);
                }
            }
        }
        this.hasUnused = unused;
        this.wordsAreIndependent = !unused && !innerSpaceSymbol;
    }

    /** Float bits mapped to an int of the same order; -0 and +0 compare equal, as in C++. */
    private static int orderedBits(float score) {
        int bits = Float.floatToIntBits(score + 0.0f);
        return bits ^ ((bits >> 31) & 0x7FFFFFFF);
    }

    int[] encode(byte[] text) {
        Segmentation segmentation = new Segmentation(text);
        if (!wordsAreIndependent) {
            segmentation.segment(0, text.length);
        } else {
            int wordStart = 0;
            for (int i = 1; i + SPACE_SYMBOL.length <= text.length; i++) {
                if (startsWithSpaceSymbol(text, i)) {
                    segmentation.segment(wordStart, i);
                    wordStart = i;
                }
            }
            segmentation.segment(wordStart, text.length);
        }
        return segmentation.result();
    }

    private static boolean startsWithSpaceSymbol(byte[] bytes, int at) {
        return bytes[at] == SPACE_SYMBOL[0] && bytes[at + 1] == SPACE_SYMBOL[1] && bytes[at + 2] == SPACE_SYMBOL[2];
    }

    /** A left part and a right part that an UNUSED piece was merged from, as positions in the text. */
    private record Split(int start, int leftLength, int rightLength) {
    }

    /**
     * The working state of one call: the ids so far, and for the text being segmented a doubly linked
     * list of symbols and the agenda of merge candidates.
     */
    private final class Segmentation {
        private final byte[] text;
        private int[] start;
        private int[] length;
        private int[] prev;
        private int[] next;
        private long[] hash;
        /** Piece id of a symbol made by merging; -1 for a symbol still as first split. */
        private int[] mergedId;
        private boolean[] frozen;
        private final MergeQueue agenda = new MergeQueue(64);
        private final Map<Integer, Split> unusedSplits;
        private final int[] out;
        private int outSize;
        private boolean previousUnknown;

        Segmentation(byte[] text) {
            this.text = text;
            this.out = new int[text.length];
            this.unusedSplits = hasUnused ? new HashMap<>() : null;
            allocate(Math.min(text.length, 64));
        }

        private void allocate(int capacity) {
            start = new int[capacity];
            length = new int[capacity];
            prev = new int[capacity];
            next = new int[capacity];
            hash = new long[capacity];
            mergedId = new int[capacity];
            frozen = userSymbols == null ? null : new boolean[capacity];
        }

        int[] result() {
            return Arrays.copyOf(out, outSize);
        }

        /** Segments {@code text[from, to)} and appends its ids. */
        void segment(int from, int to) {
            if (from == to) {
                return;
            }
            if (to - from > start.length) {
                allocate(Math.max(to - from, 2 * start.length));
            }
            int count = 0;
            for (int pos = from; pos < to; count++) {
                int size = userSymbols == null ? 0 : userSymbols.match(text, pos, to);
                if (frozen != null) {
                    frozen[count] = size > 0;
                }
                if (size == 0) {
                    size = Math.min(Utf8.charLength(text[pos]), to - pos);
                }
                start[count] = pos;
                length[count] = size;
                hash[count] = PieceTable.hash(text, pos, size);
                prev[count] = count - 1;
                next[count] = count + 1;
                mergedId[count] = -1;
                pos += size;
            }
            next[count - 1] = -1;
            for (int i = 1; i < count; i++) {
                addCandidate(i - 1, i);
            }
            while (!agenda.isEmpty()) {
                int left = (int) agenda.pop();
                int id = agenda.poppedValue();
                int right = next[left];
                if (length[left] == 0 || right < 0 || length[left] + length[right] != pieceLengths[id]) {
                    continue; // stale: one side has changed since the candidate was queued
                }
                length[left] += length[right];
                hash[left] = pieceHashes[id];
                mergedId[left] = id;
                length[right] = 0;
                next[left] = next[right];
                if (next[left] >= 0) {
                    prev[next[left]] = left;
                }
                if (prev[left] >= 0) {
                    addCandidate(prev[left], left);
                }
                if (next[left] >= 0) {
                    addCandidate(left, next[left]);
                }
            }
            for (int i = 0; i >= 0; i = next[i]) {
                int id = mergedId[i] >= 0 ? mergedId[i] : table.find(hash[i], text, start[i], length[i]);
                emit(start[i], length[i], id);
            }
        }

        private void addCandidate(int left, int right) {
            if (frozen != null && (frozen[left] || frozen[right])) {
                return;
            }
            int size = length[left] + length[right];
            if (size > table.maxPieceLength()) {
                return;
            }
            int id = table.find(table.concat(hash[left], hash[right], length[right]), text, start[left], size);
            if (id < 0 || !types[id].isMergeable()) {
                return;
            }
            agenda.push((long) priorities[id] << 32 | left, id);
            if (types[id] == PieceType.UNUSED) {
                unusedSplits.put(id, new Split(start[left], length[left], length[right]));
            }
        }

        /** Appends the ids of the piece {@code text[from, from + size)} whose id is {@code id} (-1: none). */
        private void emit(int from, int size, int id) {
            if (id >= 0 && types[id] == PieceType.UNUSED) {
                Split split = unusedSplits.get(id);
                if (split != null) {
                    int middle = split.start() + split.leftLength();
                    emit(split.start(), split.leftLength(), table.find(text, split.start(), split.leftLength()));
                    emit(middle, split.rightLength(), table.find(text, middle, split.rightLength()));
                    return;
                }
            }
            if (id >= 0) {
                out[outSize++] = id;
                previousUnknown = false;
            } else if (byteIds != null) {
                for (int i = from; i < from + size; i++) {
                    out[outSize++] = byteIds[text[i] & 0xFF];
                }
            } else {
                if (!previousUnknown) {
                    out[outSize++] = unknownId;
                }
                previousUnknown = true;
            }
        }
    }
}
