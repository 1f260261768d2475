package io.pgolf.data.bytes;

import io.pgolf.data.tokenizer.SentencePieceModel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * How many UTF-8 bytes of text each token stands for, as the reference's build_sentencepiece_luts
 * computes them for bits-per-byte: byte pieces count 1; control, unknown and unused pieces count 0 and are
 * boundaries; any other piece counts the UTF-8 length of its text without a leading U+2581, and has a
 * leading space when it had one. Ids past the tokenizer's vocabulary (when the model's vocabulary is
 * larger) count 0 and are boundaries.
 */
public final class ByteTables {
    private static final String SPACE_SYMBOL = "\u2581";

    private final short[] baseBytes;
    private final boolean[] hasLeadingSpace;
    private final boolean[] isBoundary;

    private ByteTables(short[] baseBytes, boolean[] hasLeadingSpace, boolean[] isBoundary) {
        this.baseBytes = baseBytes;
        this.hasLeadingSpace = hasLeadingSpace;
        this.isBoundary = isBoundary;
    }

    /** Tables of {@code max(model.vocabSize(), vocabSize)} entries. */
    public static ByteTables of(SentencePieceModel model, int vocabSize) {
        int pieces = model.vocabSize();
        int size = Math.max(pieces, vocabSize);
        short[] baseBytes = new short[size];
        boolean[] hasLeadingSpace = new boolean[size];
        boolean[] isBoundary = new boolean[size];
        for (int id = 0; id < size; id++) {
            if (id >= pieces || model.isControl(id) || model.isUnknown(id) || model.isUnused(id)) {
                isBoundary[id] = true;
            } else if (model.isByte(id)) {
                baseBytes[id] = 1;
            } else {
                String piece = model.idToPiece(id);
                if (piece.startsWith(SPACE_SYMBOL)) {
                    hasLeadingSpace[id] = true;
                    piece = piece.substring(SPACE_SYMBOL.length());
                }
                baseBytes[id] = (short) piece.getBytes(StandardCharsets.UTF_8).length;
            }
        }
        return new ByteTables(baseBytes, hasLeadingSpace, isBoundary);
    }

    /**
     * Tables of {@code vocabSize} entries under which every id stands for one byte and none is a boundary, so that
     * bits per byte read as bits per token: for throughput measurements without a tokenizer, never for a score.
     */
    public static ByteTables oneBytePerToken(int vocabSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabSize must be positive, got " + vocabSize);
        }
        short[] baseBytes = new short[vocabSize];
        Arrays.fill(baseBytes, (short) 1);
        return new ByteTables(baseBytes, new boolean[vocabSize], new boolean[vocabSize]);
    }

    public int size() {
        return baseBytes.length;
    }

    public int baseBytes(int id) {
        return baseBytes[Objects.checkIndex(id, baseBytes.length)];
    }

    public boolean hasLeadingSpace(int id) {
        return hasLeadingSpace[Objects.checkIndex(id, hasLeadingSpace.length)];
    }

    public boolean isBoundary(int id) {
        return isBoundary[Objects.checkIndex(id, isBoundary.length)];
    }

    /** Bytes of text that {@code target} stands for after {@code previous}: its leading space counts unless
     * it follows a boundary. */
    public int tokenBytes(int target, int previous) {
        return baseBytes(target) + (hasLeadingSpace(target) && !isBoundary(previous) ? 1 : 0);
    }

    /** A copy of the base byte counts (int16, as the reference stores them). */
    public short[] baseBytesTable() {
        return baseBytes.clone();
    }

    public boolean[] hasLeadingSpaceTable() {
        return hasLeadingSpace.clone();
    }

    public boolean[] isBoundaryTable() {
        return isBoundary.clone();
    }
}
