package io.pgolf.data.shard;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ShardWriterTest {
    @TempDir
    Path dir;

    @Test
    void failedRenameLeavesNoTemporaryFile() throws IOException {
        // A non-empty directory at the target name makes the final rename fail after all bytes were written.
        Path target = dir.resolve("fineweb_train_000000.bin");
        Files.createDirectory(target);
        Files.writeString(target.resolve("occupant"), "x");

        assertThrows(IOException.class, () -> ShardWriter.write(target, new char[1000], 1000));

        assertEquals(List.of(target), entries());
        assertEquals(List.of(target.resolve("occupant")), entriesOf(target));
    }

    @Test
    void countBeyondTheArrayIsRejectedBeforeAnythingIsWritten() throws IOException {
        Path target = dir.resolve("fineweb_train_000000.bin");
        assertThrows(IllegalArgumentException.class, () -> ShardWriter.write(target, new char[3], 4));
        assertEquals(List.of(), entries());
    }

    @Test
    void rewriteReplacesTheOldShardAndLeavesOnlyIt() throws IOException {
        Path target = dir.resolve("fineweb_val_000000.bin");
        ShardWriter.write(target, new char[] {5, 6, 7}, 3);
        ShardWriter.write(target, new char[] {9}, 1);
        assertEquals(List.of(target), entries());
        try (Shard shard = Shard.open(target)) {
            assertEquals(1, shard.count());
            assertEquals(9, shard.get(0));
        }
    }

    @Test
    void writesMoreThanOneStagingChunk() throws IOException {
        int count = (1 << 22) + 3;
        char[] tokens = new char[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = (char) (i * 31);
        }
        Path target = dir.resolve("big.bin");
        ShardWriter.write(target, tokens, count);
        try (Shard shard = Shard.open(target)) {
            assertEquals(count, shard.count());
            assertEquals((char) ((count - 1) * 31), shard.get(count - 1));
            assertEquals((char) ((1 << 22) * 31), shard.get(1 << 22));
        }
    }

    @Test
    void finishedShardHasTheDirectorysOrdinaryFilePermissions() throws IOException {
        Path plain = Files.createFile(dir.resolve("plain"));
        Path target = dir.resolve("fineweb_val_000000.bin");
        ShardWriter.write(target, new char[] {1}, 1);
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(target));
    }

    private List<Path> entries() throws IOException {
        return entriesOf(dir);
    }

    private static List<Path> entriesOf(Path directory) throws IOException {
        try (Stream<Path> stream = Files.list(directory)) {
            return stream.sorted().toList();
        }
    }
}
