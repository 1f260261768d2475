package io.pgolf.data.artifact;

import io.pgolf.config.Compressor;
import io.pgolf.model.quant.QuantizedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SequencedMap;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArtifactFileTest {
    private static final ArtifactBudget ROOMY = new ArtifactBudget(16_000_000, 1_000);

    @TempDir
    Path dir;

    private Path written(Compressor compressor) {
        Path file = dir.resolve("model.pgolf");
        ArtifactWriter.write(file, EncodedArtifact.encode(SampleModels.mixed(7), SampleModels.defaultArchitecture(), compressor), ROOMY);
        return file;
    }

    private static String refusal(Path file) {
        ArtifactFormatException e = assertThrows(ArtifactFormatException.class, () -> ArtifactReader.read(file));
        assertTrue(e.getMessage().startsWith(file + ": not a readable pgolf artifact: "), e.getMessage());
        return e.getMessage();
    }

    private static void edit(Path file, int offset, int value) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[offset] = (byte) value;
        Files.write(file, bytes);
    }

    @ParameterizedTest
    @EnumSource(Compressor.class)
    void dequantizedValuesRoundTripBitExactly(Compressor compressor) throws IOException {
        QuantizedModel model = SampleModels.mixed(7);
        Path file = written(compressor);
        LoadedArtifact loaded = ArtifactReader.read(file);
        QuantizedModelBytesTest.assertSameModel(model, loaded.model());
        SequencedMap<String, float[]> before = model.dequantize();
        SequencedMap<String, float[]> after = loaded.model().dequantize();
        assertEquals(List.copyOf(before.keySet()), List.copyOf(after.keySet()));
        before.forEach((name, values) -> {
            int[] expected = new int[values.length];
            int[] actual = new int[values.length];
            for (int i = 0; i < values.length; i++) {
                expected[i] = Float.floatToRawIntBits(values[i]);
                actual[i] = Float.floatToRawIntBits(after.get(name)[i]);
            }
            assertArrayEquals(expected, actual, name);
        });
        assertEquals(compressor, loaded.header().compressor());
        assertEquals(SampleModels.defaultArchitecture(), loaded.header().architecture());
        assertEquals(Files.size(file), loaded.modelBytes());
    }

    @Test
    void theHeaderIsChecksummedJsonNamingTheArchitecture() throws IOException {
        Path file = written(Compressor.LZMA);
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer prefix = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("PGOLFART", new String(bytes, 0, 8, StandardCharsets.US_ASCII));
        assertEquals(ArtifactFormat.VERSION, prefix.getInt(8));
        String json = new String(bytes, 20, prefix.getInt(12), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"compressor\":\"lzma\"") && json.contains("\"model.num-layers\":\"11\"")
                && json.contains("\"data.vocab-size\":\"8192\""), json);
    }

    @Test
    void refusesABadMagic() throws IOException {
        Path file = written(Compressor.ZSTD);
        edit(file, 0, 'X');
        assertTrue(refusal(file).contains("bad magic"));
        Files.write(file, "hello".getBytes(StandardCharsets.US_ASCII));
        assertTrue(refusal(file).contains("bad magic"));
    }

    @Test
    void namesAMissingFile() {
        Path missing = dir.resolve("missing.artifact");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ArtifactReader.read(missing));
        assertEquals(missing + ": no such artifact file", e.getMessage());
    }

    @Test
    void refusesAnotherFormatVersion() throws IOException {
        Path file = written(Compressor.ZSTD);
        edit(file, ArtifactFormat.VERSION_OFFSET, ArtifactFormat.VERSION + 1);
        assertTrue(refusal(file).contains("format version " + (ArtifactFormat.VERSION + 1) + ", this pgolf reads version "
                + ArtifactFormat.VERSION));
    }

    @Test
    void refusesATruncatedFileWhereverItIsCut() throws IOException {
        byte[] whole = Files.readAllBytes(written(Compressor.BROTLI));
        int headerEnd = ArtifactFormat.PREFIX_BYTES + ByteBuffer.wrap(whole).order(ByteOrder.LITTLE_ENDIAN).getInt(12);
        for (int length : new int[] {0, 4, 12, ArtifactFormat.PREFIX_BYTES, headerEnd - 1, headerEnd, whole.length - 1}) {
            Path cut = dir.resolve("cut-" + length);
            Files.write(cut, Arrays.copyOf(whole, length));
            assertTrue(refusal(cut).contains("truncated"), "cut at " + length + ": " + refusal(cut));
        }
        Path longer = dir.resolve("longer");
        Files.write(longer, Arrays.copyOf(whole, whole.length + 3));
        assertTrue(refusal(longer).contains("3 bytes follow the payload"));
    }

    @Test
    void refusesACorruptPayloadOrHeaderByChecksum() throws IOException {
        Path file = written(Compressor.BROTLI);
        int length = (int) Files.size(file);
        edit(file, length - 10, Files.readAllBytes(file)[length - 10] ^ 0x10);
        assertTrue(refusal(file).contains("payload checksum mismatch"));

        Path header = written(Compressor.BROTLI);
        edit(header, ArtifactFormat.PREFIX_BYTES + 3, Files.readAllBytes(header)[ArtifactFormat.PREFIX_BYTES + 3] ^ 0x01);
        assertTrue(refusal(header).contains("header checksum mismatch"));
    }

    /** A header that is intact (its checksum recomputed) but names a compressor this version does not know. */
    @Test
    void refusesAnUnknownCompressor() throws IOException {
        Path file = written(Compressor.LZMA);
        byte[] bytes = Files.readAllBytes(file);
        int headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt(12);
        String json = new String(bytes, 20, headerLength, StandardCharsets.UTF_8).replace("\"lzma\"", "\"gzip\"");
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(header);
        ByteBuffer out = ByteBuffer.allocate(bytes.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put(bytes, 0, 16).putInt((int) crc.getValue()).put(header).put(bytes, 20 + headerLength, bytes.length - 20 - headerLength);
        Files.write(file, out.array());
        assertTrue(refusal(file).contains("unknown compressor 'gzip'"));
    }

    @Test
    void refusesAnArtifactOverTheBudgetWritingNothing() throws IOException {
        EncodedArtifact artifact = EncodedArtifact.encode(SampleModels.mixed(7), SampleModels.defaultArchitecture(), Compressor.ZSTD);
        long modelBytes = artifact.modelBytes();
        ArtifactBudget tight = new ArtifactBudget(modelBytes + 99, 100);
        Path file = dir.resolve("sub/over.pgolf");
        ArtifactOverBudgetException e = assertThrows(ArtifactOverBudgetException.class,
                () -> ArtifactWriter.write(file, artifact, tight));
        assertTrue(e.getMessage().contains(String.format("model bytes %,d + code bytes 100", modelBytes))
                && e.getMessage().contains(String.format("budget of %,d bytes by 1", modelBytes + 99))
                && e.getMessage().startsWith(file.toString()), e.getMessage());
        assertFalse(Files.exists(file.getParent()));

        ArtifactWriter.write(file, artifact, new ArtifactBudget(modelBytes + 100, 100));
        assertEquals(modelBytes, Files.size(file));
        try (var listing = Files.list(file.getParent())) {
            assertEquals(List.of(file.getFileName()), listing.map(Path::getFileName).toList());
        }
    }
}
