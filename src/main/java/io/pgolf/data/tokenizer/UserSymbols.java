package io.pgolf.data.tokenizer;

/**
 * SentencePiece's PrefixMatcher over USER_DEFINED pieces: at a position, the longest user-defined piece
 * that starts there. Such text bypasses normalization and is never merged with its neighbours.
 */
final class UserSymbols {
    private final PieceTable table;
    private final PieceType[] types;
    private final int maxLength;

    private UserSymbols(PieceTable table, PieceType[] types, int maxLength) {
        this.table = table;
        this.types = types;
        this.maxLength = maxLength;
    }

    /** The matcher for a vocabulary, or null when it has no user-defined piece. */
    static UserSymbols of(PieceTable table, byte[][] pieces, PieceType[] types) {
        int maxLength = 0;
        for (int id = 0; id < pieces.length; id++) {
            if (types[id] == PieceType.USER_DEFINED) {
                maxLength = Math.max(maxLength, pieces[id].length);
            }
        }
        return maxLength == 0 ? null : new UserSymbols(table, types, maxLength);
    }

    /** Length of the longest user-defined piece at {@code text[from, to)}, or 0 when none starts there. */
    int match(byte[] text, int from, int to) {
        for (int length = Math.min(maxLength, to - from); length > 0; length--) {
            int id = table.find(text, from, length);
            if (id >= 0 && types[id] == PieceType.USER_DEFINED) {
                return length;
            }
        }
        return 0;
    }
}
