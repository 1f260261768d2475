package io.pgolf.deploy;

import io.pgolf.protocol.ChunkScored;
import io.pgolf.protocol.InputFile;
import io.pgolf.protocol.InputRole;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.RunStarted;
import io.pgolf.protocol.TrainingFinished;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * pgolf replay on the recorded journals ({@link ReplayJournals}): each replays bit for bit on the shared validation
 * shard alone; the replayed artifact is the recorded one to the byte; a changed output is named at its seq and
 * field; inputs whose sha256 differ from the recorded are refused, naming the file.
 */
class ReplayCommandTest {
    @TempDir
    static Path dir;
    private static Path data;
    private static Path trainJournal;
    private static Path evalJournal;
    private static CliResult trainReplay;

    @BeforeAll
    static void replayTheTrainRun() throws IOException {
        data = ReplayJournals.validationData(dir);
        trainJournal = ReplayJournals.copy(ReplayJournals.TRAIN, dir);
        evalJournal = ReplayJournals.copy(ReplayJournals.EVAL, dir);
        trainReplay = replay(trainJournal, dir.resolve("train-replay"));
    }

    private static CliResult replay(Path journal, Path out, String... more) {
        return ReplayJournals.replay(journal, data, out, more);
    }

    private static String row(CliResult result, String stage) {
        return ReplayJournals.row(result, stage);
    }

    private static List<JournalEntry> entries(Path journal) throws IOException {
        return ReplayJournals.entries(journal);
    }

    /** A row whose messages all equal the recording's: as many equal as compared, and no difference. */
    private static void assertAllEqual(CliResult result, String stage, int messages) {
        assertEquals(String.format(Locale.ROOT, "%-16s %9s %9s  ", stage, String.format(Locale.ROOT, "%,d", messages),
                String.format(Locale.ROOT, "%,d", messages)), row(result, stage));
    }

    /**
     * Every stage of the step-scheduled run, from the Trainer fed its 48 recorded batches to the TTT evaluator fed its 7
     * recorded requests, says exactly what the recorded one said; the artifact it writes has the sha256 that the
     * recorded evaluation of the original artifact names, so that evaluation replays on it, bit for bit too.
     */
    @Test
    void aTrainRunAndTheEvaluationOfItsArtifactReplayBitForBit() throws IOException {
        assertEquals(0, trainReplay.exit(), trainReplay.err() + trainReplay.out());
        assertTrue(trainReplay.out().contains("replay train: 48 recorded batches to a fresh Trainer"), trainReplay.out());
        assertTrue(trainReplay.out().contains("replay eval-ttt: 7 recorded requests to a fresh TTT evaluator"),
                trainReplay.out());
        RecordedRun recorded = RecordedRun.of(JournalReader.readAll(trainJournal));
        for (String stage : recorded.stages()) {
            assertAllEqual(trainReplay, stage, recorded.entries(stage).size());
        }
        int messages = recorded.byStage().values().stream().mapToInt(List::size).sum();
        assertTrue(trainReplay.out().contains("verdict: EQUAL (" + messages + " messages in 6 stages, bit for bit)"),
                trainReplay.out());

        Path artifact = dir.resolve("train-replay").resolve(RunStages.ARTIFACT);
        RunStarted evaluation = (RunStarted) entries(evalJournal).getFirst().message();
        assertEquals(evaluation.inputs(InputRole.ARTIFACT).getFirst().sha256(),
                RunInputs.hash(InputRole.ARTIFACT, artifact).sha256());
        CliResult evalReplay = replay(evalJournal, dir.resolve("eval-replay"), "--artifact", artifact.toString());
        assertEquals(0, evalReplay.exit(), evalReplay.err() + evalReplay.out());
        assertTrue(evalReplay.out().contains("verdict: EQUAL"), evalReplay.out());
        // The replay's journal is a run's journal too: it begins with its own RunStarted, naming what it read.
        RunStarted replayStarted = (RunStarted) entries(dir.resolve("eval-replay").resolve(Replay.JOURNAL)).getFirst()
                .message();
        assertEquals(List.of(InputRole.TOKENIZER, InputRole.VAL_SHARD, InputRole.ARTIFACT, InputRole.JOURNAL),
                replayStarted.inputs().stream().map(InputFile::role).toList());
        assertEquals(evaluation.config(), replayStarted.config());
    }

    /** One receipt's nats changed in the recording: the replay names that entry and field, and exits 1. */
    @Test
    void aChangedReceiptIsTheFirstDifferenceAtItsSeq() throws IOException {
        List<JournalEntry> recorded = entries(evalJournal);
        int second = -1;
        for (int i = 0, receipts = 0; i < recorded.size() && second < 0; i++) {
            if (recorded.get(i).message() instanceof ChunkScored && ++receipts == 2) {
                second = i;
            }
        }
        ChunkScored receipt = (ChunkScored) recorded.get(second).message();
        double nats = Math.nextUp(receipt.nats());
        Path doctored = ReplayJournals.edited(evalJournal, dir.resolve("nats.journal"), second, m -> new ChunkScored(receipt.evaluationId(),
                receipt.chunk(), receipt.lastChunk(), receipt.weightsVersion(), receipt.method(), receipt.windows(),
                nats, receipt.tokens(), receipt.bytes()));
        CliResult result = replay(doctored, dir.resolve("nats-replay"), "--artifact",
                dir.resolve("train-replay").resolve(RunStages.ARTIFACT).toString());
        assertEquals(1, result.exit(), result.out());
        assertTrue(row(result, EvaluationStages.TTT).endsWith(String.format(Locale.ROOT, "seq %d ChunkScored.nats:"
                        + " recorded %s (0x%016x) vs replayed %s (0x%016x)", second, nats, Double.doubleToRawLongBits(nats),
                receipt.nats(), Double.doubleToRawLongBits(receipt.nats()))), row(result, EvaluationStages.TTT));
        assertAllEqual(result, EvaluationStages.PLAIN, 2);
        assertTrue(result.out().contains("verdict: DIFFERENT (1 of 4 stages)"), result.out());
    }

    /**
     * The run scheduled by its wall clock (8 steps in its 3-second budget, the lr warmdown and the depth loop following
     * the clock) with pre-quant TTT replays step for step: the Trainer reads the recorded clock.
     */
    @Test
    void aWallClockRunWithPrequantTttReplaysStepForStep() throws IOException {
        Path journal = ReplayJournals.copy(ReplayJournals.WALL_CLOCK, dir);
        CliResult result = replay(journal, dir.resolve("wallclock-replay"));
        assertEquals(0, result.exit(), result.err() + result.out());
        TrainingFinished finished = entries(journal).stream().map(JournalEntry::message)
                .filter(TrainingFinished.class::isInstance).map(TrainingFinished.class::cast).findFirst().orElseThrow();
        assertEquals("time budget", finished.stopReason());
        assertTrue(result.out().contains("training finished after " + finished.steps() + " steps (time budget)"),
                result.out());
        assertTrue(row(result, RunStages.PREQUANT).startsWith(RunStages.PREQUANT), result.out());
        assertTrue(result.out().contains("verdict: EQUAL") && result.out().contains(" in 3 stages"), result.out());
    }

    /** The recording's val shard sha256 changed, or its tokenizer missing: refused before anything runs, named. */
    @Test
    void inputsWithoutTheRecordedBytesAreRefusedByName() throws IOException {
        RunStarted started = (RunStarted) entries(evalJournal).getFirst().message();
        String otherSha = "0".repeat(64);
        Path doctored = ReplayJournals.edited(evalJournal, dir.resolve("sha.journal"), 0, m -> new RunStarted(started.pgolfVersion(),
                started.command(), started.config(), started.backend(), started.threads(), started.valTokens(),
                started.inputs().stream().map(f -> f.role() == InputRole.VAL_SHARD
                        ? new InputFile(f.role(), f.path(), f.bytes(), otherSha) : f).toList()));
        Path shard = data.resolve("fineweb_val_000000.bin");
        CliResult result = replay(doctored, dir.resolve("sha-replay"), "--artifact",
                dir.resolve("train-replay").resolve(RunStages.ARTIFACT).toString());
        assertEquals(1, result.exit(), result.out());
        assertTrue(result.err().contains("val shard " + shard + " has sha256 " + RunInputs.hash(InputRole.VAL_SHARD,
                shard).sha256() + ", but the recorded run read "), result.err());
        assertTrue(result.err().contains("with sha256 " + otherSha), result.err());
        assertTrue(Files.notExists(dir.resolve("sha-replay").resolve(Replay.JOURNAL)));

        Path missing = dir.resolve("no-such.model");
        CliResult noTokenizer = CliResult.run("replay", trainJournal.toString(), "--data", data.toString(),
                "--tokenizer", missing.toString(), "--out", dir.resolve("missing-replay").toString());
        assertEquals(1, noTokenizer.exit());
        assertTrue(noTokenizer.err().contains("tokenizer " + missing + " is missing (the recorded run read "),
                noTokenizer.err());
    }
}
