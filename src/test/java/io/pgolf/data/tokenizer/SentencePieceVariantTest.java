package io.pgolf.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgolf.testing.SharedFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model features the shared tokenizers do not use (UNUSED and USER_DEFINED pieces, no byte fallback,
 * other normalizer flags, no rules), checked against spm_encode on variants of the sp1024 model.
 */
class SentencePieceVariantTest {
    private static final List<String> FEATURE_LINES = List.of(
            "ﬁx the string a▁b and a b, <b>bold</b> thing",
            "the fine thing of the string, ﬁxing ofthe",
            "ﾟ unseen chars ⅋ ꙮ 𓀀 in a row: ⅋ꙮ𓀀 ⅋ ꙮ",
            "  spaces   everywhere  ");
    private static List<String> lines;

    @BeforeAll
    static void sampleLines() throws Exception {
        List<String> sample = new ArrayList<>(FEATURE_LINES);
        sample.addAll(SentencePieceEdgeCaseTest.TRICKY);
        for (String doc : CorpusOracle.documents(150)) {
            sample.addAll(Arrays.asList(doc.split("\n")));
        }
        lines = List.copyOf(sample);
    }

    static Stream<Arguments> variants() {
        return Stream.of(
                variant("every fifth normal piece unused", m -> retype(m, (id, p) ->
                        p.type() == PieceType.NORMAL && id % 5 == 0 ? PieceType.UNUSED : p.type())),
                variant("user-defined pieces", m -> addUserDefined(retype(m, (id, p) ->
                        List.of("▁the", "ing", "▁of").contains(text(p)) ? PieceType.USER_DEFINED : p.type()))),
                variant("no byte fallback", SentencePieceVariantTest::withoutByteFallback),
                variant("dummy prefix, extra whitespace kept", m -> normalizer(m, true, false, true, false)),
                variant("dummy prefix as suffix", m -> normalizer(m, true, true, true, true)),
                variant("spaces not escaped", m -> normalizer(m, false, true, false, false)),
                variant("no normalization rules", m -> new ModelProto(m.pieces(), m.trainer(),
                        new ModelProto.NormalizerSpec("identity", new byte[0], false, true, true))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void variantMatchesSpmEncode(String name, UnaryOperator<ModelProto> change, @TempDir Path work) throws Exception {
        SpmEncode.assumeInstalled();
        ModelProto base = ModelProto.parse(Files.readAllBytes(SharedFiles.tokenizer(1024)));
        Path modelFile = work.resolve("variant.model");
        Files.write(modelFile, ModelProtoWriter.write(change.apply(base)));
        SentencePieceModel model = SentencePieceModel.load(modelFile);
        List<int[]> expected = SpmEncode.encode(modelFile, lines, work);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < lines.size() && failures.size() < 5; i++) {
            int[] actual = model.encode(lines.get(i));
            if (!Arrays.equals(expected.get(i), actual)) {
                failures.add("'" + lines.get(i) + "': expected " + Arrays.toString(expected.get(i))
                        + " got " + Arrays.toString(actual));
            }
        }
        assertEquals(List.of(), failures, name);
    }

    private static Arguments variant(String name, UnaryOperator<ModelProto> change) {
        return Arguments.of(name, change);
    }

    private interface Retyping {
        PieceType typeOf(int id, ModelProto.Piece piece);
    }

    private static ModelProto retype(ModelProto m, Retyping retyping) {
        List<ModelProto.Piece> pieces = new ArrayList<>();
        for (int id = 0; id < m.pieces().size(); id++) {
            ModelProto.Piece p = m.pieces().get(id);
            pieces.add(new ModelProto.Piece(p.utf8(), p.score(), retyping.typeOf(id, p)));
        }
        return new ModelProto(pieces, m.trainer(), m.normalizer());
    }

    /** Adds user-defined pieces that hold a U+2581 inside, an unnormalized ligature and markup. */
    private static ModelProto addUserDefined(ModelProto m) {
        List<ModelProto.Piece> pieces = new ArrayList<>(m.pieces());
        for (String piece : List.of("a▁b", "ﬁx", "<b>", "</b>")) {
            pieces.add(new ModelProto.Piece(piece.getBytes(StandardCharsets.UTF_8), 0f, PieceType.USER_DEFINED));
        }
        return new ModelProto(pieces, m.trainer(), m.normalizer());
    }

    private static ModelProto withoutByteFallback(ModelProto m) {
        ModelProto.TrainerSpec t = m.trainer();
        return new ModelProto(m.pieces().stream().filter(p -> p.type() != PieceType.BYTE).toList(),
                new ModelProto.TrainerSpec(t.modelType(), false, t.treatWhitespaceAsSuffix(), t.unkPiece(),
                        t.bosPiece(), t.eosPiece(), t.padPiece()),
                m.normalizer());
    }

    private static ModelProto normalizer(ModelProto m, boolean addDummyPrefix, boolean removeExtraWhitespaces,
                                         boolean escapeWhitespaces, boolean whitespaceAsSuffix) {
        ModelProto.TrainerSpec t = m.trainer();
        ModelProto.NormalizerSpec n = m.normalizer();
        return new ModelProto(m.pieces(),
                new ModelProto.TrainerSpec(t.modelType(), t.byteFallback(), whitespaceAsSuffix, t.unkPiece(),
                        t.bosPiece(), t.eosPiece(), t.padPiece()),
                new ModelProto.NormalizerSpec(n.name(), n.precompiledCharsmap(), addDummyPrefix,
                        removeExtraWhitespaces, escapeWhitespaces));
    }

    private static String text(ModelProto.Piece piece) {
        return new String(piece.utf8(), StandardCharsets.UTF_8);
    }
}
