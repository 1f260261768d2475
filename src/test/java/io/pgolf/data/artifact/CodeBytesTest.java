package io.pgolf.data.artifact;

import io.pgolf.config.Compressor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CodeBytesTest {
    private static final ClassLoader LOADER = CodeBytesTest.class.getClassLoader();

    private static CodeBytes measure(List<String> roots, List<String> resources) {
        return CodeBytes.measure(LOADER, roots, resources, Compressor.LZMA);
    }

    @Test
    void countsTheClassesReachableFromTheRootsAndIsStable() {
        CodeBytes shuffle = measure(List.of(ByteShuffle.class.getName()), List.of());
        assertEquals(1, shuffle.classes());
        CodeBytes reader = measure(List.of(ArtifactReader.class.getName()), List.of());
        // The reader reaches the header, the codecs, the model's bytes, the quantized tensors and the config.
        assertTrue(reader.classes() > 15, reader.toString());
        assertTrue(reader.compressedBytes() > 0 && reader.compressedBytes() < reader.rawBytes(), reader.toString());
        assertEquals(reader, measure(List.of(ArtifactReader.class.getName()), List.of()));
        CodeBytes both = measure(List.of(ArtifactReader.class.getName(), ByteShuffle.class.getName()), List.of());
        assertEquals(reader.classes(), both.classes());
        assertEquals(reader.rawBytes(), both.rawBytes());
    }

    @Test
    void resourcesAddTheirBytes() {
        CodeBytes without = measure(List.of(ByteShuffle.class.getName()), List.of());
        CodeBytes with = measure(List.of(ByteShuffle.class.getName()), List.of("reference.conf"));
        assertEquals(1, with.resources());
        assertTrue(with.rawBytes() > without.rawBytes() + 1000, with + " vs " + without);
    }

    @Test
    void refusesARootOrResourceThatIsMissing() {
        assertThrows(IllegalArgumentException.class, () -> measure(List.of("io.pgolf.NoSuchClass"), List.of()));
        assertThrows(IllegalArgumentException.class, () -> measure(List.of(ByteShuffle.class.getName()), List.of("no-such.conf")));
    }
}
