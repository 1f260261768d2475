package io.pgolf.data.tokenizer;

/** SentencePiece's {@code ModelProto.SentencePiece.Type}, with the wire value of each constant. */
public enum PieceType {
    NORMAL(1),
    UNKNOWN(2),
    CONTROL(3),
    USER_DEFINED(4),
    UNUSED(5),
    BYTE(6);

    private final int wireValue;

    PieceType(int wireValue) {
        this.wireValue = wireValue;
    }

    /** The constant for a wire value, or null when the value names no known type. */
    static PieceType fromWire(long value) {
        for (PieceType type : values()) {
            if (type.wireValue == value) {
                return type;
            }
        }
        return null;
    }

    /** Pieces that BPE may produce by merging (SentencePiece's {@code pieces_} map). */
    boolean isMergeable() {
        return this == NORMAL || this == USER_DEFINED || this == UNUSED;
    }
}
