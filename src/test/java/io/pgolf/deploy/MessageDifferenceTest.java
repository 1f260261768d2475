package io.pgolf.deploy;

import io.pgolf.protocol.ArtifactWritten;
import io.pgolf.protocol.ChunkScored;
import io.pgolf.protocol.DataPrepared;
import io.pgolf.protocol.EvaluationMethod;
import io.pgolf.protocol.Evaluated;
import io.pgolf.protocol.InputFile;
import io.pgolf.protocol.InputRole;
import io.pgolf.protocol.ScoredWindow;
import io.pgolf.protocol.ScoringMethod;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TrainBatch;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How a replay compares two messages: exactly, field by field, except the fields a replay cannot reproduce. */
class MessageDifferenceTest {
    private static Evaluated evaluated(double valBpb, double seconds) {
        return new Evaluated(EvaluationMethod.PLAIN, 128, 128, 8, 6.5, valBpb, 1024, 1739, seconds);
    }

    @Test
    void wallClockFieldsAreNotComparedButEveryBitOfAResultIs() {
        assertEquals(Optional.empty(), MessageDifference.between(evaluated(5.5, 1.0), evaluated(5.5, 9.0)));
        assertEquals(Optional.of(new MessageDifference("Evaluated.valBpb", "0.0 (0x0000000000000000)",
                "-0.0 (0x8000000000000000)")), MessageDifference.between(evaluated(0.0, 1.0), evaluated(-0.0, 1.0)));
        double next = Math.nextUp(5.5);
        assertEquals("Evaluated.valBpb", MessageDifference.between(evaluated(5.5, 1.0), evaluated(next, 1.0))
                .orElseThrow().field());
    }

    @Test
    void nestedRecordsListsAndTokensAreComparedElementByElement() {
        TrainBatch batch = new TrainBatch(0, 0, 1, 4, Tokens.of(1, 2, 3, 4, 5));
        assertEquals(Optional.of(new MessageDifference("TrainBatch.windows[3]", "4", "9")), MessageDifference.between(
                batch, new TrainBatch(0, 0, 1, 4, Tokens.of(1, 2, 3, 9, 5))));
        ChunkScored receipt = receipt(new ScoredWindow(8, 40, 33, 41));
        assertEquals(Optional.of(new MessageDifference("ChunkScored.windows[1].scoredTo", "41", "40")),
                MessageDifference.between(receipt, receipt(new ScoredWindow(8, 40, 33, 40))));
        assertEquals(Optional.of(new MessageDifference("ChunkScored.windows.size", "2", "1")),
                MessageDifference.between(receipt, new ChunkScored("e", 0, false, 0, new ScoringMethod(true, 1024),
                        List.of(new ScoredWindow(0, 32, 1, 33)), 10.0, 40, 60)));
    }

    private static ChunkScored receipt(ScoredWindow second) {
        return new ChunkScored("e", 0, false, 0, new ScoringMethod(true, 1024),
                List.of(new ScoredWindow(0, 32, 1, 33), second), 10.0, 40, 60);
    }

    @Test
    void whereFilesWentAndTheBuildsCodeBytesAreNotCompared() {
        InputFile shard = new InputFile(InputRole.VAL_SHARD, "runs/a/data/fineweb_val_000000.bin", 100, "ab");
        DataPrepared prepared = new DataPrepared(3, 50, 20, 30, List.of(shard));
        assertEquals(Optional.empty(), MessageDifference.between(prepared, new DataPrepared(3, 50, 20, 30, List.of(
                new InputFile(InputRole.VAL_SHARD, "replay/data/fineweb_val_000000.bin", 100, "ab")))));
        assertEquals("DataPrepared.shards[0].sha256", MessageDifference.between(prepared, new DataPrepared(3, 50, 20,
                30, List.of(new InputFile(InputRole.VAL_SHARD, shard.path(), 100, "cd")))).orElseThrow().field());
        ArtifactWritten written = new ArtifactWritten("a/final_model.artifact", "brotli", 1000, 200_000, 16_000_000,
                3000, 0.1, 1.0, 0.01);
        assertEquals(Optional.empty(), MessageDifference.between(written, new ArtifactWritten(
                "b/final_model.artifact", "brotli", 1000, 205_000, 16_000_000, 3000, 0.2, 2.0, 0.02)));
        assertEquals("ArtifactWritten.modelBytes", MessageDifference.between(written, new ArtifactWritten(
                written.file(), "brotli", 1001, 200_000, 16_000_000, 3000, 0.1, 1.0, 0.01)).orElseThrow().field());
    }
}
