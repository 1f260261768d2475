package io.pgolf.data.shard;

import io.pgolf.protocol.Tokens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ShardsTest {
    @TempDir
    Path dir;

    @Test
    void listsOneSplitSortedByName() throws IOException {
        for (int index : new int[] {10, 2, 0}) {
            ShardWriter.write(dir.resolve(Shards.fileName("train", index)), new char[1], 1);
        }
        ShardWriter.write(dir.resolve(Shards.fileName("val", 0)), new char[1], 1);
        Files.writeString(dir.resolve("fineweb_train_000001.bin.xz"), "not a shard");

        assertEquals(List.of(dir.resolve("fineweb_train_000000.bin"), dir.resolve("fineweb_train_000002.bin"),
                dir.resolve("fineweb_train_000010.bin")), Shards.list(dir, "train"));
        assertEquals(List.of(dir.resolve("fineweb_val_000000.bin")), Shards.list(dir, "val"));
    }

    @Test
    void emptySplitAndUnknownSplitAreErrors() {
        assertThrows(NoSuchFileException.class, () -> Shards.list(dir, "val"));
        assertThrows(IllegalArgumentException.class, () -> Shards.list(dir, "test"));
    }

    @Test
    void validationTokensConcatenateShardsAndCutToWholeWindowsPlusOne() throws IOException {
        ShardWriter.write(dir.resolve("fineweb_val_000000.bin"), new char[] {1, 2, 3, 4}, 4);
        ShardWriter.write(dir.resolve("fineweb_val_000001.bin"), new char[] {5, 6, 7, 8, 9, 10}, 6);
        // 10 tokens, seqLen 4: (10 - 1) / 4 * 4 = 8 usable, plus one.
        assertEquals(Tokens.of(1, 2, 3, 4, 5, 6, 7, 8, 9), Shards.validationTokens(dir, 4));
        // seqLen 3: (10 - 1) / 3 * 3 = 9 usable, plus one = all 10.
        assertEquals(Tokens.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), Shards.validationTokens(dir, 3));
    }

    @Test
    void validationSplitShorterThanOneWindowIsAnError() throws IOException {
        ShardWriter.write(dir.resolve("fineweb_val_000000.bin"), new char[] {1, 2, 3, 4}, 4);
        assertEquals(Tokens.of(1, 2, 3, 4), Shards.validationTokens(dir, 3));
        assertThrows(IllegalArgumentException.class, () -> Shards.validationTokens(dir, 4));
    }

    @Test
    void fileNamesUseSixDigits() {
        assertEquals("fineweb_train_000042.bin", Shards.fileName("train", 42));
        assertThrows(IllegalArgumentException.class, () -> Shards.fileName("train", 1_000_000));
    }
}
