package io.pgolf.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsWriterTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsTensorsShapesOrderAndMetadata() {
        float[] big = new float[300_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (float) Math.sin(i) * 1e-3f;
        }
        float[] matrix = {1f, -2.5f, Float.MIN_VALUE, Float.MAX_VALUE, -0f, 3e-8f};
        Path file = dir.resolve("model.safetensors");
        new SafeTensorsWriter()
                .addF32("z.matrix", matrix, 2, 3)
                .addF32("a.big", big, big.length)
                .addF32("scalar", new float[] {0.5f}, new int[0])
                .metadata("step", "12")
                .metadata("format", "pt")
                .write(file);

        try (SafeTensors read = SafeTensors.open(file)) {
            assertEquals(List.of("z.matrix", "a.big", "scalar"), List.copyOf(read.names()));
            assertArrayEquals(new long[] {2, 3}, read.info("z.matrix").shape());
            assertArrayEquals(new long[] {300_000}, read.info("a.big").shape());
            assertArrayEquals(new long[0], read.info("scalar").shape());
            assertEquals(SafeTensors.DType.F32, read.info("a.big").dtype());
            assertArrayEquals(matrix, read.floats("z.matrix"));
            assertArrayEquals(big, read.floats("a.big"));
            assertArrayEquals(new float[] {0.5f}, read.floats("scalar"));
            assertEquals(Map.of("step", "12", "format", "pt"), read.metadata());
        }
    }

    @Test
    void headerIsPaddedToEightBytes() throws Exception {
        Path file = dir.resolve("one.safetensors");
        new SafeTensorsWriter().addF32("x", new float[] {1f}, 1).write(file);
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8);
        assertEquals(8 + headerLength + 4, bytes.length);
    }

    @Test
    void replacesAnExistingFileAndLeavesNoTemporaryBehind() throws Exception {
        Path file = dir.resolve("state.safetensors");
        Files.writeString(file, "old contents");
        new SafeTensorsWriter().addF32("w", new float[] {7f, 8f}, 2).write(file);
        try (SafeTensors read = SafeTensors.open(file)) {
            assertArrayEquals(new float[] {7f, 8f}, read.floats("w"));
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void failureNamesTheFileAndCreatesNothing() {
        Path file = dir.resolve("missing-folder").resolve("x.safetensors");
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> new SafeTensorsWriter().addF32("w", new float[] {1f}, 1).write(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(Files.notExists(file.getParent()));
    }

    @Test
    void rejectsValuesThatDoNotFillTheShapeAndDuplicateNames() {
        SafeTensorsWriter writer = new SafeTensorsWriter().addF32("w", new float[6], 2, 3);
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> writer.addF32("v", new float[5], 2, 3));
        assertTrue(shape.getMessage().contains("v"), shape.getMessage());
        assertThrows(IllegalArgumentException.class, () -> writer.addF32("w", new float[1], 1));
        assertThrows(IllegalArgumentException.class, () -> writer.addF32("__metadata__", new float[1], 1));
    }
}
