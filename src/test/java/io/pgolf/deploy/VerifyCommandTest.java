package io.pgolf.deploy;

import io.pgolf.data.shard.ShardWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VerifyCommandTest {
    @TempDir
    Path dir;

    private Path val;
    private Path train;

    @BeforeEach
    void twoShards() throws IOException {
        val = dir.resolve("fineweb_val_000000.bin");
        train = dir.resolve("fineweb_train_000000.bin");
        ShardWriter.write(val, new char[]{1, 5, 6, 7}, 4);
        ShardWriter.write(train, new char[]{1, 8, 9}, 3);
    }

    @Test
    void goodFolderPasses() {
        CliResult r = CliResult.run("verify", dir.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("2 shards, 4 val + 3 train tokens; no manifest.json"), r.out());
    }

    @Test
    void truncatedShardIsNamed() throws IOException {
        try (FileChannel ch = FileChannel.open(train, StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(train) - 1);
        }
        CliResult r = CliResult.run("verify", dir.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("pgolf verify: error: " + train), r.err());
        assertTrue(r.err().contains("size mismatch"), r.err());
    }

    @Test
    void wrongMagicIsNamed() throws IOException {
        try (FileChannel ch = FileChannel.open(val, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 12345), 0);
        }
        CliResult r = CliResult.run("verify", dir.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("pgolf verify: error: " + val), r.err());
        assertTrue(r.err().contains("magic"), r.err());
    }

    @Test
    void shardDifferingFromTheManifestIsNamed() throws IOException {
        Files.writeString(dir.resolve("manifest.json"), """
                {"tokens": {"val": 4, "train": 3},
                 "files": {"fineweb_val_000000.bin": "00", "fineweb_train_000000.bin": "00"}}""");
        CliResult r = CliResult.run("verify", dir.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains(val + ": sha256 "), r.err());
    }

}
