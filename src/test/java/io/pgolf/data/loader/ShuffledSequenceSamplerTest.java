package io.pgolf.data.loader;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sampler against the reference loader run with numpy (fixtures sampler_small.json, sampler_sp8192.json). */
class ShuffledSequenceSamplerTest {
    @Test
    void smallLayoutMatchesTheReferenceAcrossRanksAndReshuffles() {
        JsonNode fixture = Fixtures.load("sampler_small.json");
        int seqLen = fixture.get("seqLen").asInt();
        List<Integer> counts = boxed(Fixtures.ints(fixture.get("counts")));
        for (JsonNode c : fixture.get("cases")) {
            int rank = c.get("rank").asInt();
            int worldSize = c.get("worldSize").asInt();
            ShuffledSequenceSampler sampler = new ShuffledSequenceSampler(
                    unboxed(TrainBatchLoader.filesOfRank(counts, rank, worldSize)), seqLen, rank);
            int[] shards = Fixtures.ints(c.get("shard"));
            int[] starts = Fixtures.ints(c.get("start"));
            for (int i = 0; i < shards.length; i++) {
                assertEquals(new WindowStart(shards[i], starts[i]), sampler.next(),
                        "rank " + rank + " of " + worldSize + ", pick " + i);
            }
        }
    }

    @Test
    void sp8192LayoutMatchesTheReferenceForTheRecordSequenceLength() throws NoSuchAlgorithmException {
        JsonNode fixture = Fixtures.load("sampler_sp8192.json");
        int seqLen = fixture.get("seqLen").asInt();
        List<Integer> counts = boxed(Fixtures.ints(fixture.get("counts")));
        for (JsonNode c : fixture.get("cases")) {
            int rank = c.get("rank").asInt();
            int worldSize = c.get("worldSize").asInt();
            ShuffledSequenceSampler sampler = new ShuffledSequenceSampler(
                    unboxed(TrainBatchLoader.filesOfRank(counts, rank, worldSize)), seqLen, rank);
            List<WindowStart> picks = new ArrayList<>();
            for (int i = 0; i < c.get("picks").asInt(); i++) {
                picks.add(sampler.next());
            }
            int[] firstShards = Fixtures.ints(c.get("firstShard"));
            int[] firstStarts = Fixtures.ints(c.get("firstStart"));
            for (int i = 0; i < firstShards.length; i++) {
                assertEquals(new WindowStart(firstShards[i], firstStarts[i]), picks.get(i), "rank " + rank + " pick " + i);
            }
            assertEquals(c.get("picksSha256").asText(), digest(picks), "all picks of rank " + rank + " of " + worldSize);
        }
    }

    @Test
    void resetRestartsTheSequence() {
        int[] counts = {5000, 300, 12000};
        ShuffledSequenceSampler sampler = new ShuffledSequenceSampler(counts, 64, 3);
        List<WindowStart> first = take(sampler, 400);
        sampler.reset();
        assertEquals(first, take(sampler, 400));
        assertEquals(take(new ShuffledSequenceSampler(counts, 64, 3), 400), first);
    }

    @Test
    void eachEpochUsesEveryWindowOnceAtOnePhasePerShard() {
        int seqLen = 16;
        // Counts of 16k + 16 tokens give k windows whatever the phase, so every epoch has 6 + 1 + 15 windows.
        int[] counts = {112, 32, 16, 0, 256};
        int[] windows = {6, 1, 0, 0, 15};
        ShuffledSequenceSampler sampler = new ShuffledSequenceSampler(counts, seqLen, 1);
        for (int epoch = 0; epoch < 3; epoch++) {
            List<WindowStart> picks = take(sampler, 22);
            for (int shard = 0; shard < counts.length; shard++) {
                int s = shard;
                int[] starts = picks.stream().filter(w -> w.shard() == s).mapToInt(WindowStart::start).sorted().toArray();
                String where = "epoch " + epoch + ", shard " + shard;
                assertEquals(windows[shard], starts.length, where);
                if (starts.length > 0) {
                    int phase = starts[0];
                    assertTrue(phase < seqLen, where);
                    assertArrayEquals(IntStream.range(0, starts.length).map(i -> phase + i * seqLen).toArray(), starts, where);
                    assertTrue(starts[starts.length - 1] + seqLen + 1 <= counts[shard], where);
                }
            }
        }
    }

    @Test
    void layoutsWithoutAnyWindowAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new ShuffledSequenceSampler(new int[] {16, 10}, 16, 0));
        assertThrows(IllegalArgumentException.class, () -> new ShuffledSequenceSampler(new int[0], 16, 0));
        assertThrows(IllegalArgumentException.class, () -> new ShuffledSequenceSampler(new int[] {100, -1}, 16, 0));
        assertEquals(new WindowStart(0, 0), new ShuffledSequenceSampler(new int[] {17}, 16, 0).next());
    }

    private static List<WindowStart> take(ShuffledSequenceSampler sampler, int count) {
        List<WindowStart> picks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            picks.add(sampler.next());
        }
        return picks;
    }

    private static String digest(List<WindowStart> picks) throws NoSuchAlgorithmException {
        StringBuilder lines = new StringBuilder();
        for (WindowStart pick : picks) {
            lines.append(pick.shard()).append(',').append(pick.start()).append('\n');
        }
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        return HexFormat.of().formatHex(sha.digest(lines.toString().getBytes(StandardCharsets.US_ASCII)));
    }

    private static List<Integer> boxed(int[] values) {
        return Arrays.stream(values).boxed().toList();
    }

    private static int[] unboxed(List<Integer> values) {
        return values.stream().mapToInt(Integer::intValue).toArray();
    }
}
