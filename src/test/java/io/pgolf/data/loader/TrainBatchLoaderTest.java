package io.pgolf.data.loader;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgolf.data.shard.ShardWriter;
import io.pgolf.data.shard.Shards;
import io.pgolf.protocol.TrainBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.XZInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TrainBatchLoaderTest {
    private static final int[] COUNTS = {700, 90, 1500, 40, 333};
    private static final int SEQ_LEN = 32;

    @TempDir
    Path dir;

    @Test
    void rowsAreTheShardWindowsTheSamplerPicks() throws IOException {
        char[][] tokens = writeSyntheticShards();
        MicroBatchShape shape = new MicroBatchShape(2, 4, 5, SEQ_LEN);
        try (TrainBatchLoader loader = TrainBatchLoader.open(dir, 1, shape)) {
            assertEquals(List.of(dir.resolve("fineweb_train_000001.bin"), dir.resolve("fineweb_train_000003.bin")),
                    loader.files());
            ShuffledSequenceSampler sampler = new ShuffledSequenceSampler(new int[] {COUNTS[1], COUNTS[3]}, SEQ_LEN, 1);
            char[][] mine = {tokens[1], tokens[3]};
            for (long index = 0; index < 12; index++) {
                TrainBatch batch = loader.next();
                assertEquals(index, batch.index());
                assertEquals(1, batch.rank());
                assertEquals(5, batch.rows());
                assertEquals(SEQ_LEN, batch.seqLen());
                for (int row = 0; row < 5; row++) {
                    WindowStart pick = sampler.next();
                    for (int pos = 0; pos < SEQ_LEN; pos++) {
                        assertEquals(mine[pick.shard()][pick.start() + pos], batch.input(row, pos), "batch " + index + " row " + row);
                        assertEquals(mine[pick.shard()][pick.start() + pos + 1], batch.target(row, pos), "batch " + index + " row " + row);
                    }
                }
            }
        }
    }

    @Test
    void resetRestartsNumberingAndContents() throws IOException {
        writeSyntheticShards();
        try (TrainBatchLoader loader = TrainBatchLoader.open(dir, 0, new MicroBatchShape(1, 8, 7, SEQ_LEN))) {
            List<TrainBatch> first = List.of(loader.next(), loader.next(), loader.next());
            loader.reset();
            assertEquals(first, List.of(loader.next(), loader.next(), loader.next()));
            assertEquals(3, loader.next().index());
        }
    }

    @Test
    void rankWithoutShardsIsRejected() throws IOException {
        writeSyntheticShards();
        MicroBatchShape shape = new MicroBatchShape(8, 1, 2, SEQ_LEN);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainBatchLoader.open(dir, 6, shape));
        assertEquals("rank 6 of 8 gets no training shard: " + dir + " holds fewer than 7 train shards", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrainBatchLoader.open(dir, 8, shape));
    }

    @Test
    void sp8192BatchesMatchTheReferenceLoader() throws IOException, NoSuchAlgorithmException {
        Path dataset = Path.of(System.getProperty("pgolf.shared", "../shared")).resolve("data/datasets/fineweb10B_sp8192");
        assumeTrue(Files.isDirectory(dataset), "shared data absent at " + dataset);
        JsonNode fixture = Fixtures.load("sampler_sp8192.json");
        for (JsonNode name : fixture.get("files")) {
            try (InputStream in = new XZInputStream(Files.newInputStream(dataset.resolve(name.asText() + ".xz")))) {
                Files.copy(in, dir.resolve(name.asText()));
            }
        }
        assertEquals(fixture.get("files").size(), Shards.list(dir, "train").size());
        int seqLen = fixture.get("seqLen").asInt();
        for (JsonNode c : fixture.get("cases")) {
            int worldSize = c.get("worldSize").asInt();
            int rank = c.get("rank").asInt();
            MicroBatchShape shape = MicroBatchShape.of(786_432, worldSize, seqLen);
            assertEquals(c.get("rows").asInt(), shape.rows());
            try (TrainBatchLoader loader = TrainBatchLoader.open(dir, rank, shape)) {
                JsonNode digests = c.get("firstBatchesSha256");
                for (int b = 0; b < digests.size(); b++) {
                    assertEquals(digests.get(b).asText(), sha256(loader.next()), "rank " + rank + " of " + worldSize + ", batch " + b);
                }
            }
        }
    }

    /** Shards whose tokens encode their own position, so a misplaced window cannot go unnoticed. */
    private char[][] writeSyntheticShards() throws IOException {
        char[][] tokens = new char[COUNTS.length][];
        for (int shard = 0; shard < COUNTS.length; shard++) {
            tokens[shard] = new char[COUNTS[shard]];
            for (int i = 0; i < COUNTS[shard]; i++) {
                tokens[shard][i] = (char) (shard * 10_000 + i);
            }
            ShardWriter.write(dir.resolve(Shards.fileName("train", shard)), tokens[shard], COUNTS[shard]);
        }
        return tokens;
    }

    private static String sha256(TrainBatch batch) throws NoSuchAlgorithmException {
        char[] tokens = batch.windows().toCharArray();
        ByteBuffer bytes = ByteBuffer.allocate(2 * tokens.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asCharBuffer().put(tokens);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.array()));
    }
}
