package io.pgolf.data.shard;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardTest {
    @TempDir
    Path dir;

    @Test
    void roundTripKeepsEveryTokenIncludingValuesAbove32767() throws IOException {
        char[] tokens = new char[10_000];
        Random random = new Random(7);
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = (char) random.nextInt(65536);
        }
        tokens[0] = 0xFFFF;
        tokens[1] = 0x8000;
        Path file = dir.resolve("fineweb_train_000000.bin");
        ShardWriter.write(file, tokens, 9_000);

        assertEquals(1024 + 2 * 9_000, Files.size(file));
        try (Shard shard = Shard.open(file)) {
            assertEquals(9_000, shard.count());
            assertEquals(65535, shard.get(0));
            assertEquals(32768, shard.get(1));
            for (int i = 0; i < 9_000; i++) {
                assertEquals(tokens[i], shard.get(i), "token " + i);
            }
            char[] chars = new char[100];
            shard.copyTo(8_900, chars, 0, 100);
            assertArrayEquals(Arrays.copyOfRange(tokens, 8_900, 9_000), chars);
            int[] ints = new int[5];
            shard.copyTo(0, ints, 3, 2);
            assertArrayEquals(new int[] {0, 0, 0, 65535, 32768}, ints);
            assertThrows(IndexOutOfBoundsException.class, () -> shard.get(9_000));
            assertThrows(IndexOutOfBoundsException.class, () -> shard.copyTo(8_950, chars, 0, 51));
        }
        assertEquals(9_000, Shard.readCount(file));
    }

    @Test
    void headerFollowsTheChallengeLayout() throws IOException {
        Path file = dir.resolve("fineweb_val_000000.bin");
        ShardWriter.write(file, new char[] {1, 258, 65535}, 3);
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(20240520, bytes.getInt(0));
        assertEquals(1, bytes.getInt(4));
        assertEquals(3, bytes.getInt(8));
        for (int i = 3; i < 256; i++) {
            assertEquals(0, bytes.getInt(4 * i), "header int " + i);
        }
        assertEquals(1, bytes.getShort(1024));
        assertEquals(258, bytes.getShort(1026));
        assertEquals((short) 0xFFFF, bytes.getShort(1028));
    }

    @Test
    void emptyShardIsValid() throws IOException {
        Path file = dir.resolve("empty.bin");
        ShardWriter.write(file, new char[0], 0);
        try (Shard shard = Shard.open(file)) {
            assertEquals(0, shard.count());
        }
    }

    @Test
    void badMagicIsRejectedNamingTheFile() throws IOException {
        Path file = validShard("magic.bin", 10);
        patchInt(file, 0, 20240521);
        assertRejected(file, "bad magic: expected 20240520, found 20240521");
    }

    @Test
    void badVersionIsRejectedNamingTheFile() throws IOException {
        Path file = validShard("version.bin", 10);
        patchInt(file, 4, 2);
        assertRejected(file, "bad version: expected 1, found 2");
    }

    @Test
    void negativeCountIsRejected() throws IOException {
        Path file = validShard("negative.bin", 10);
        patchInt(file, 8, -5);
        assertRejected(file, "bad token count: expected >= 0, found -5");
    }

    @Test
    void truncatedFileIsRejected() throws IOException {
        Path file = validShard("truncated.bin", 10);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 1));
        assertRejected(file, "size mismatch: header says 10 tokens, so expected 1044 bytes, found 1043");
    }

    @Test
    void countLargerThanTheDataIsRejected() throws IOException {
        Path file = validShard("mismatch.bin", 10);
        patchInt(file, 8, 11);
        assertRejected(file, "size mismatch: header says 11 tokens, so expected 1046 bytes, found 1044");
    }

    @Test
    void fileShorterThanTheHeaderIsRejected() throws IOException {
        Path file = dir.resolve("short.bin");
        Files.write(file, new byte[1023]);
        assertRejected(file, "file is 1023 bytes, shorter than the 1024-byte header");
    }

    private void assertRejected(Path file, String problem) {
        ShardFormatException open = assertThrows(ShardFormatException.class, () -> Shard.open(file));
        assertEquals(file + ": " + problem, open.getMessage());
        assertEquals(file, open.file());
        ShardFormatException count = assertThrows(ShardFormatException.class, () -> Shard.readCount(file));
        assertTrue(count.getMessage().startsWith(file.toString()), count.getMessage());
    }

    private Path validShard(String name, int count) throws IOException {
        Path file = dir.resolve(name);
        ShardWriter.write(file, new char[count], count);
        return file;
    }

    private static void patchInt(Path file, int offset, int value) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(offset, value);
        Files.write(file, bytes);
    }
}
