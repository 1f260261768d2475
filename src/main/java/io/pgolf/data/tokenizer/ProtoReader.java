package io.pgolf.data.tokenizer;

/**
 * Reads the protobuf wire format field by field, just enough for SentencePiece's ModelProto: varints,
 * 32-bit and 64-bit fixed values and length-delimited fields (strings, bytes, sub-messages).
 * A malformed message raises {@link MalformedProtoException} giving the absolute byte offset.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private final byte[] data;
    private final int end;
    private int pos;
    private int fieldNumber;
    private int wireType;
    private int fieldStart;

    ProtoReader(byte[] data) {
        this(data, 0, data.length);
    }

    private ProtoReader(byte[] data, int from, int to) {
        this.data = data;
        this.pos = from;
        this.end = to;
    }

    /** Advances to the next field's tag; false at the end of the message. */
    boolean next() {
        if (pos >= end) {
            return false;
        }
        fieldStart = pos;
        long tag = readVarint();
        fieldNumber = (int) (tag >>> 3);
        wireType = (int) (tag & 7);
        if (fieldNumber == 0 || tag >>> 3 > 0x1FFFFFFF) {
            throw error(fieldStart, "invalid field number " + (tag >>> 3));
        }
        if (wireType != VARINT && wireType != FIXED64 && wireType != LENGTH_DELIMITED && wireType != FIXED32) {
            throw error(fieldStart, "unsupported wire type " + wireType + " for field " + fieldNumber);
        }
        return true;
    }

    int fieldNumber() {
        return fieldNumber;
    }

    /** Byte offset of the current field's tag in the whole buffer, for error messages. */
    int fieldOffset() {
        return fieldStart;
    }

    long varint() {
        expect(VARINT);
        return readVarint();
    }

    int int32() {
        return (int) varint();
    }

    boolean bool() {
        return varint() != 0;
    }

    float float32() {
        expect(FIXED32);
        require(4);
        int bits = (data[pos] & 0xFF) | (data[pos + 1] & 0xFF) << 8 | (data[pos + 2] & 0xFF) << 16
                | (data[pos + 3] & 0xFF) << 24;
        pos += 4;
        return Float.intBitsToFloat(bits);
    }

    byte[] bytes() {
        int length = lengthPrefix();
        byte[] out = new byte[length];
        System.arraycopy(data, pos, out, 0, length);
        pos += length;
        return out;
    }

    String string() {
        int length = lengthPrefix();
        String out = new String(data, pos, length, java.nio.charset.StandardCharsets.UTF_8);
        pos += length;
        return out;
    }

    /** A reader over the current length-delimited field, read as an embedded message. */
    ProtoReader message() {
        int length = lengthPrefix();
        ProtoReader sub = new ProtoReader(data, pos, pos + length);
        pos += length;
        return sub;
    }

    void skip() {
        switch (wireType) {
            case VARINT -> readVarint();
            case FIXED64 -> {
                require(8);
                pos += 8;
            }
            case FIXED32 -> {
                require(4);
                pos += 4;
            }
            case LENGTH_DELIMITED -> {
                int length = lengthPrefix(); // before reading pos: the prefix itself advances it
                pos += length;
            }
            default -> throw new IllegalStateException("wire type " + wireType);
        }
    }

    private int lengthPrefix() {
        expect(LENGTH_DELIMITED);
        int at = pos;
        long length = readVarint();
        if (length > end - pos) {
            throw error(at, "field " + fieldNumber + " claims " + length + " bytes but only " + (end - pos) + " remain");
        }
        return (int) length;
    }

    private long readVarint() {
        int at = pos;
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw error(at, "truncated varint");
            }
            byte b = data[pos++];
            value |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return value;
            }
        }
        throw error(at, "varint longer than 10 bytes");
    }

    private void expect(int expectedWireType) {
        if (wireType != expectedWireType) {
            throw error(fieldStart, "field " + fieldNumber + " has wire type " + wireType + ", expected " + expectedWireType);
        }
    }

    private void require(int count) {
        if (end - pos < count) {
            throw error(pos, "field " + fieldNumber + " is truncated");
        }
    }

    private static MalformedProtoException error(int offset, String message) {
        return new MalformedProtoException("at byte " + offset + ": " + message);
    }

    /** A protobuf message that does not parse; callers add the file name. */
    static final class MalformedProtoException extends RuntimeException {
        MalformedProtoException(String message) {
            super(message);
        }
    }
}
