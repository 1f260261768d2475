package io.pgolf.data.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A SentencePiece BPE model read from its {@code .model} file, encoding text to the same ids as
 * SentencePiece 0.1.97 (normalization by the model's precompiled rules, BPE merges, byte fallback).
 * Immutable and safe to share between threads.
 */
public final class SentencePieceModel {
    private static final Map<String, Integer> BYTE_PIECES = bytePieces();

    private final String[] pieces;
    private final PieceType[] types;
    private final Normalizer normalizer;
    private final BpeEncoder encoder;
    private final int unkId;
    private final int bosId;
    private final int eosId;
    private final int padId;

    private SentencePieceModel(String[] pieces, PieceType[] types, Normalizer normalizer, BpeEncoder encoder,
                               int unkId, int bosId, int eosId, int padId) {
        this.pieces = pieces;
        this.types = types;
        this.normalizer = normalizer;
        this.encoder = encoder;
        this.unkId = unkId;
        this.bosId = bosId;
        this.eosId = eosId;
        this.padId = padId;
    }

    /**
     * Reads a model file.
     *
     * @throws UncheckedIOException     when the file cannot be read
     * @throws IllegalArgumentException naming the file, when it is not a well-formed SentencePiece model
     *                                  or not a BPE one
     */
    public static SentencePieceModel load(Path modelFile) {
        byte[] data;
        try {
            data = Files.readAllBytes(modelFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read SentencePiece model " + modelFile, e);
        }
        try {
            return build(ModelProto.parse(data));
        } catch (ProtoReader.MalformedProtoException | IllegalArgumentException e) {
            throw new IllegalArgumentException(modelFile + ": not a usable SentencePiece model: " + e.getMessage(), e);
        }
    }

    private static SentencePieceModel build(ModelProto proto) {
        List<ModelProto.Piece> list = proto.pieces();
        if (list.isEmpty()) {
            throw new IllegalArgumentException("the model has no pieces");
        }
        ModelProto.TrainerSpec trainer = proto.trainer();
        if (trainer.modelType() != ModelProto.TrainerSpec.BPE) {
            throw new IllegalArgumentException("model type " + modelTypeName(trainer.modelType())
                    + " is not supported, only BPE");
        }
        int size = list.size();
        byte[][] utf8 = new byte[size][];
        float[] scores = new float[size];
        PieceType[] types = new PieceType[size];
        String[] texts = new String[size];
        Map<String, Integer> ids = new HashMap<>();
        int unkId = -1;
        int[] byteIds = new int[256];
        Arrays.fill(byteIds, -1);
        for (int id = 0; id < size; id++) {
            ModelProto.Piece piece = list.get(id);
            utf8[id] = piece.utf8();
            scores[id] = piece.score();
            types[id] = piece.type();
            texts[id] = new String(piece.utf8(), StandardCharsets.UTF_8);
            String where = "piece " + id + " '" + texts[id] + "'";
            if (utf8[id].length == 0) {
                throw new IllegalArgumentException("piece " + id + " is empty");
            }
            for (byte b : utf8[id]) {
                if (b == 0) {
                    throw new IllegalArgumentException(where + " contains a NUL character");
                }
            }
            if (Float.isNaN(scores[id])) {
                throw new IllegalArgumentException(where + " has a NaN score");
            }
            Integer previous = ids.putIfAbsent(texts[id], id);
            if (previous != null) {
                throw new IllegalArgumentException(where + " is already defined as piece " + previous);
            }
            if (types[id] == PieceType.UNKNOWN) {
                if (unkId >= 0) {
                    throw new IllegalArgumentException(where + ": the unknown piece is already defined as piece " + unkId);
                }
                unkId = id;
            }
            if (types[id] == PieceType.BYTE) {
                if (!trainer.byteFallback()) {
                    throw new IllegalArgumentException(where + " is a byte piece but byte_fallback is off");
                }
                int value = byteOfPiece(texts[id]);
                if (value < 0) {
                    throw new IllegalArgumentException(where + " is a byte piece but not of the form <0xXX>");
                }
                byteIds[value] = id;
            }
        }
        if (unkId < 0) {
            throw new IllegalArgumentException("the model defines no unknown piece");
        }
        if (trainer.byteFallback()) {
            for (int b = 0; b < 256; b++) {
                if (byteIds[b] < 0) {
                    throw new IllegalArgumentException(String.format(
                            "byte_fallback is on but the byte piece <0x%02X> is missing", b));
                }
            }
        }
        PieceTable table = new PieceTable(utf8);
        UserSymbols userSymbols = UserSymbols.of(table, utf8, types);
        Normalizer normalizer = Normalizer.create(proto.normalizer(), trainer.treatWhitespaceAsSuffix(), userSymbols);
        BpeEncoder encoder = new BpeEncoder(utf8, scores, types, table, userSymbols, unkId,
                trainer.byteFallback() ? byteIds : null);
        return new SentencePieceModel(texts, types, normalizer, encoder, unkId,
                specialId(ids, types, trainer.bosPiece()), specialId(ids, types, trainer.eosPiece()),
                specialId(ids, types, trainer.padPiece()));
    }

    /** SentencePiece reports bos/eos/pad ids only for control pieces, and -1 otherwise. */
    private static int specialId(Map<String, Integer> ids, PieceType[] types, String piece) {
        Integer id = ids.get(piece);
        return id != null && types[id] == PieceType.CONTROL ? id : -1;
    }

    /** The byte named by a piece {@code <0xXX>} (upper-case hex, as SentencePiece writes them), or -1. */
    private static int byteOfPiece(String piece) {
        return BYTE_PIECES.getOrDefault(piece, -1);
    }

    private static Map<String, Integer> bytePieces() {
        Map<String, Integer> map = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            map.put(String.format("<0x%02X>", b), b);
        }
        return Map.copyOf(map);
    }

    private static String modelTypeName(int type) {
        return switch (type) {
            case 1 -> "UNIGRAM";
            case 2 -> "BPE";
            case 3 -> "WORD";
            case 4 -> "CHAR";
            default -> String.valueOf(type);
        };
    }

    /** The ids of {@code text} (no BOS or EOS added). Safe to call from several threads at once. */
    public int[] encode(String text) {
        byte[] utf8 = new byte[Utf8.maxEncodedLength(text.length())];
        int length = Utf8.encode(text, utf8);
        return encoder.encode(normalizer.normalize(utf8, length));
    }

    public int vocabSize() {
        return pieces.length;
    }

    public int bosId() {
        return bosId;
    }

    public int eosId() {
        return eosId;
    }

    public int padId() {
        return padId;
    }

    public int unkId() {
        return unkId;
    }

    public String idToPiece(int id) {
        return pieces[checkId(id)];
    }

    public PieceType pieceType(int id) {
        return types[checkId(id)];
    }

    public boolean isControl(int id) {
        return pieceType(id) == PieceType.CONTROL;
    }

    public boolean isUnknown(int id) {
        return pieceType(id) == PieceType.UNKNOWN;
    }

    public boolean isUnused(int id) {
        return pieceType(id) == PieceType.UNUSED;
    }

    public boolean isByte(int id) {
        return pieceType(id) == PieceType.BYTE;
    }

    private int checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IndexOutOfBoundsException("piece id " + id + " outside [0, " + pieces.length + ")");
        }
        return id;
    }
}
