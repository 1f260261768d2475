package io.pgolf.data.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The fields of SentencePiece's {@code ModelProto} that encoding depends on, read from the wire format.
 * Proto2 defaults apply to absent fields. Everything else in the file (self-test data, the denormalizer,
 * training-only settings) is skipped.
 */
record ModelProto(List<Piece> pieces, TrainerSpec trainer, NormalizerSpec normalizer) {

    /** One vocabulary entry; {@code utf8} is the piece exactly as stored (protobuf strings are UTF-8). */
    record Piece(byte[] utf8, float score, PieceType type) {
    }

    /** TrainerSpec fields used at encoding time. {@code modelType}: 1 unigram, 2 BPE, 3 word, 4 char. */
    record TrainerSpec(int modelType, boolean byteFallback, boolean treatWhitespaceAsSuffix,
                       String unkPiece, String bosPiece, String eosPiece, String padPiece) {
        static final int UNIGRAM = 1;
        static final int BPE = 2;
    }

    record NormalizerSpec(String name, byte[] precompiledCharsmap, boolean addDummyPrefix,
                          boolean removeExtraWhitespaces, boolean escapeWhitespaces) {
    }

    private static final TrainerSpec DEFAULT_TRAINER =
            new TrainerSpec(TrainerSpec.UNIGRAM, false, false, "<unk>", "<s>", "</s>", "<pad>");
    private static final NormalizerSpec DEFAULT_NORMALIZER =
            new NormalizerSpec("", new byte[0], true, true, true);

    static ModelProto parse(byte[] data) {
        List<Piece> pieces = new ArrayList<>();
        TrainerSpec trainer = DEFAULT_TRAINER;
        NormalizerSpec normalizer = DEFAULT_NORMALIZER;
        ProtoReader reader = new ProtoReader(data);
        while (reader.next()) {
            switch (reader.fieldNumber()) {
                case 1 -> pieces.add(parsePiece(reader.fieldOffset(), reader.message()));
                case 2 -> trainer = parseTrainer(reader.message());
                case 3 -> normalizer = parseNormalizer(reader.message());
                default -> reader.skip();
            }
        }
        return new ModelProto(List.copyOf(pieces), trainer, normalizer);
    }

    private static Piece parsePiece(int offset, ProtoReader reader) {
        byte[] utf8 = null;
        float score = 0f;
        PieceType type = PieceType.NORMAL;
        while (reader.next()) {
            switch (reader.fieldNumber()) {
                case 1 -> utf8 = reader.bytes();
                case 2 -> score = reader.float32();
                case 3 -> {
                    long wire = reader.varint();
                    type = PieceType.fromWire(wire);
                    if (type == null) {
                        throw new ProtoReader.MalformedProtoException(
                                "piece at byte " + offset + " has unknown type " + wire);
                    }
                }
                default -> reader.skip();
            }
        }
        if (utf8 == null) {
            throw new ProtoReader.MalformedProtoException("piece at byte " + offset + " has no text");
        }
        return new Piece(utf8, score, type);
    }

    private static TrainerSpec parseTrainer(ProtoReader reader) {
        TrainerSpec d = DEFAULT_TRAINER;
        int modelType = d.modelType();
        boolean byteFallback = d.byteFallback();
        boolean suffix = d.treatWhitespaceAsSuffix();
        String unk = d.unkPiece();
        String bos = d.bosPiece();
        String eos = d.eosPiece();
        String pad = d.padPiece();
        while (reader.next()) {
            switch (reader.fieldNumber()) {
                case 3 -> modelType = reader.int32();
                case 24 -> suffix = reader.bool();
                case 35 -> byteFallback = reader.bool();
                case 45 -> unk = orDefault(reader.string(), d.unkPiece());
                case 46 -> bos = orDefault(reader.string(), d.bosPiece());
                case 47 -> eos = orDefault(reader.string(), d.eosPiece());
                case 48 -> pad = orDefault(reader.string(), d.padPiece());
                default -> reader.skip();
            }
        }
        return new TrainerSpec(modelType, byteFallback, suffix, unk, bos, eos, pad);
    }

    private static NormalizerSpec parseNormalizer(ProtoReader reader) {
        NormalizerSpec d = DEFAULT_NORMALIZER;
        String name = d.name();
        byte[] charsmap = d.precompiledCharsmap();
        boolean dummyPrefix = d.addDummyPrefix();
        boolean removeExtra = d.removeExtraWhitespaces();
        boolean escape = d.escapeWhitespaces();
        while (reader.next()) {
            switch (reader.fieldNumber()) {
                case 1 -> name = reader.string();
                case 2 -> charsmap = reader.bytes();
                case 3 -> dummyPrefix = reader.bool();
                case 4 -> removeExtra = reader.bool();
                case 5 -> escape = reader.bool();
                default -> reader.skip();
            }
        }
        return new NormalizerSpec(name, charsmap, dummyPrefix, removeExtra, escape);
    }

    /** SentencePiece falls back to the default special-piece text when the field is present but empty. */
    private static String orDefault(String value, String fallback) {
        return value.isEmpty() ? fallback : value;
    }
}
