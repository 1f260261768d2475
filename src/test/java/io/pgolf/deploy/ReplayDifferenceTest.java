package io.pgolf.deploy;

import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TrainBatch;
import io.pgolf.protocol.TrainerProgress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A recorded input changed: the replay feeds it as recorded, and the first output it changes is the difference. */
class ReplayDifferenceTest {
    @TempDir
    Path dir;

    /**
     * One token of the first batch of the first training step flipped: the batches are fed as recorded (they compare
     * equal), and the first difference of the train stage is that step's loss; exit 1.
     */
    @Test
    void aFlippedTrainingTokenChangesTheFirstStepsLoss() throws IOException {
        Path journal = ReplayJournals.copy(ReplayJournals.TRAIN, dir);
        Path data = ReplayJournals.validationData(dir);
        List<JournalEntry> entries = ReplayJournals.entries(journal);
        int firstTrainingBatch = -1;
        TrainBatch previous = null;
        for (int i = 0; i < entries.size() && firstTrainingBatch < 0; i++) {
            if (entries.get(i).message() instanceof TrainBatch batch) {
                // The loader's reset after the warm-up restarts the numbering: the first step's batches follow it.
                if (previous != null && batch.index() <= previous.index()) {
                    firstTrainingBatch = i;
                }
                previous = batch;
            }
        }
        JournalEntry firstStep = entries.stream().filter(e -> e.message() instanceof TrainerProgress p && !p.warmup())
                .findFirst().orElseThrow();
        Path doctored = ReplayJournals.edited(journal, dir.resolve("flipped.journal"), firstTrainingBatch, m -> {
            TrainBatch batch = (TrainBatch) m;
            int[] ids = batch.windows().toIntArray();
            ids[5] = (ids[5] + 1) % 1024;
            return new TrainBatch(batch.index(), batch.rank(), batch.rows(), batch.seqLen(), Tokens.of(ids));
        });
        CliResult result = ReplayJournals.replay(doctored, data, dir.resolve("replay"));
        assertEquals(1, result.exit(), result.out());
        String train = ReplayJournals.row(result, RunStages.TRAIN);
        assertTrue(train.contains("  seq " + firstStep.seq() + " TrainerProgress.trainLoss: recorded "), train);
        assertTrue(result.out().contains("verdict: DIFFERENT ("), result.out());
    }
}
