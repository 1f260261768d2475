package io.pgolf.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgolf.testing.SharedFiles;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SentencePieceModelLoadTest {
    @TempDir
    Path dir;

    @Test
    void readsTheSharedModelsSpecialIdsAndPieceTypes() {
        SentencePieceModel model = SentencePieceModel.load(SharedFiles.tokenizer(1024));
        assertEquals(1024, model.vocabSize());
        assertEquals(0, model.padId());
        assertEquals(1, model.bosId());
        assertEquals(2, model.eosId());
        assertEquals(3, model.unkId());
        assertEquals("<s>", model.idToPiece(1));
        assertTrue(model.isControl(0) && model.isControl(1) && model.isControl(2));
        assertTrue(model.isUnknown(3));
        assertEquals("<0x00>", model.idToPiece(4));
        assertTrue(model.isByte(4) && model.isByte(259));
        assertFalse(model.isByte(260) || model.isControl(260) || model.isUnused(260));
        assertThrows(IndexOutOfBoundsException.class, () -> model.idToPiece(1024));
    }

    @Test
    void truncatedModelIsRejectedNamingTheFile() throws Exception {
        byte[] real = Files.readAllBytes(SharedFiles.tokenizer(1024));
        assertRejected(write("truncated.model", Arrays.copyOf(real, real.length / 2)), "remain");
    }

    @Test
    void garbageIsRejectedNamingTheFile() throws Exception {
        assertRejected(write("garbage.model", "this is not a model\n".getBytes(StandardCharsets.US_ASCII)), "wire type");
        assertRejected(write("empty.model", new byte[0]), "no pieces");
    }

    @Test
    void unigramModelIsRejectedAsUnsupported() throws Exception {
        ModelProto bpe = ModelProto.parse(Files.readAllBytes(SharedFiles.tokenizer(1024)));
        ModelProto.TrainerSpec t = bpe.trainer();
        ModelProto unigram = new ModelProto(bpe.pieces(), new ModelProto.TrainerSpec(ModelProto.TrainerSpec.UNIGRAM,
                t.byteFallback(), t.treatWhitespaceAsSuffix(), t.unkPiece(), t.bosPiece(), t.eosPiece(), t.padPiece()),
                bpe.normalizer());
        assertRejected(write("unigram.model", ModelProtoWriter.write(unigram)), "UNIGRAM");
    }

    @Test
    void inconsistentVocabulariesAreRejected() throws Exception {
        ModelProto real = ModelProto.parse(Files.readAllBytes(SharedFiles.tokenizer(1024)));
        List<ModelProto.Piece> withDuplicate = new ArrayList<>(real.pieces());
        withDuplicate.add(real.pieces().get(500));
        assertRejected(write("duplicate.model", ModelProtoWriter.write(
                new ModelProto(withDuplicate, real.trainer(), real.normalizer()))), "already defined");
        List<ModelProto.Piece> missingByte = new ArrayList<>(real.pieces());
        missingByte.remove(4 + 0x41);
        assertRejected(write("missing-byte.model", ModelProtoWriter.write(
                new ModelProto(missingByte, real.trainer(), real.normalizer()))), "<0x41>");
        List<ModelProto.Piece> noUnknown = real.pieces().stream().filter(p -> p.type() != PieceType.UNKNOWN).toList();
        assertRejected(write("no-unk.model", ModelProtoWriter.write(
                new ModelProto(noUnknown, real.trainer(), real.normalizer()))), "unknown piece");
        byte[] charsmap = real.normalizer().precompiledCharsmap();
        ModelProto.NormalizerSpec cut = new ModelProto.NormalizerSpec("nmt_nfkc",
                Arrays.copyOf(charsmap, charsmap.length / 2), false, true, true);
        assertRejected(write("cut-charsmap.model", ModelProtoWriter.write(
                new ModelProto(real.pieces(), real.trainer(), cut))), "precompiled_charsmap");
    }

    @Test
    void missingFileIsAnIoErrorNamingIt() {
        Path missing = dir.resolve("absent.model");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> SentencePieceModel.load(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    private Path write(String name, byte[] bytes) throws Exception {
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        return file;
    }

    private static void assertRejected(Path file, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SentencePieceModel.load(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }
}
