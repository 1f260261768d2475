package io.pgolf.data.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Serializes a {@link ModelProto} back to the wire format, so tests can make variants of a real model. */
final class ModelProtoWriter {
    private ModelProtoWriter() {
    }

    static byte[] write(ModelProto model) {
        Message out = new Message();
        for (ModelProto.Piece piece : model.pieces()) {
            Message p = new Message();
            p.bytes(1, piece.utf8());
            p.fixed32(2, Float.floatToRawIntBits(piece.score()));
            p.varint(3, wireType(piece.type()));
            out.message(1, p);
        }
        ModelProto.TrainerSpec t = model.trainer();
        Message trainer = new Message();
        trainer.varint(3, t.modelType());
        trainer.varint(24, t.treatWhitespaceAsSuffix() ? 1 : 0);
        trainer.varint(35, t.byteFallback() ? 1 : 0);
        trainer.string(45, t.unkPiece());
        trainer.string(46, t.bosPiece());
        trainer.string(47, t.eosPiece());
        trainer.string(48, t.padPiece());
        out.message(2, trainer);
        ModelProto.NormalizerSpec n = model.normalizer();
        Message normalizer = new Message();
        normalizer.string(1, n.name());
        normalizer.bytes(2, n.precompiledCharsmap());
        normalizer.varint(3, n.addDummyPrefix() ? 1 : 0);
        normalizer.varint(4, n.removeExtraWhitespaces() ? 1 : 0);
        normalizer.varint(5, n.escapeWhitespaces() ? 1 : 0);
        out.message(3, normalizer);
        return out.toByteArray();
    }

    private static int wireType(PieceType type) {
        return switch (type) {
            case NORMAL -> 1;
            case UNKNOWN -> 2;
            case CONTROL -> 3;
            case USER_DEFINED -> 4;
            case UNUSED -> 5;
            case BYTE -> 6;
        };
    }

    private static final class Message {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        void varint(int field, long value) {
            rawVarint((long) field << 3);
            rawVarint(value);
        }

        void fixed32(int field, int value) {
            rawVarint((long) field << 3 | 5);
            for (int i = 0; i < 4; i++) {
                bytes.write(value >>> (8 * i));
            }
        }

        void bytes(int field, byte[] value) {
            rawVarint((long) field << 3 | 2);
            rawVarint(value.length);
            bytes.writeBytes(value);
        }

        void string(int field, String value) {
            bytes(field, value.getBytes(StandardCharsets.UTF_8));
        }

        void message(int field, Message message) {
            bytes(field, message.toByteArray());
        }

        byte[] toByteArray() {
            return bytes.toByteArray();
        }

        private void rawVarint(long value) {
            while ((value & ~0x7FL) != 0) {
                bytes.write((int) (value & 0x7F) | 0x80);
                value >>>= 7;
            }
            bytes.write((int) value);
        }
    }
}
