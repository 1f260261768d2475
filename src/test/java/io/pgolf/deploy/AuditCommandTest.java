package io.pgolf.deploy;

import io.pgolf.actors.PrequantTttActor;
import io.pgolf.actors.RunPipeline;
import io.pgolf.actors.RunPipeline.Stage;
import io.pgolf.actors.TttDriver;
import io.pgolf.actors.TttPipeline;
import io.pgolf.config.PrequantTttConfig;
import io.pgolf.config.TttConfig;
import io.pgolf.data.SafeTensors;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.TinyReference;
import io.pgolf.model.eval.EvalFixtures;
import io.pgolf.protocol.ChunkScored;
import io.pgolf.protocol.ChunkTrained;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.PipelineMessage;
import io.pgolf.protocol.PrequantTttTrained;
import io.pgolf.protocol.Rejected;
import io.pgolf.protocol.ScoredWindow;
import io.pgolf.protocol.ScoringMethod;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TrainOnChunk;
import io.pgolf.protocol.TttFinished;
import io.pgolf.protocol.TttStarted;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * pgolf audit on journals of real TTT runs (the tiny model over 385 validation tokens: 3 chunks of 128 targets) and
 * on copies doctored to break one condition each.
 */
class AuditCommandTest {
    private static final int SEQ_LEN = 32;
    private static final int STRIDE = 8;

    @TempDir
    static Path runs;
    private static Path honest;
    private static Path prequant;

    @TempDir
    Path dir;

    @BeforeAll
    static void runEvaluations() throws Exception {
        TinyReference reference = TinyReference.load();
        try (SafeTensors fixture = SafeTensors.open(TinyReference.tensors());
             CpuBackend backend = new CpuBackend(2)) {
            Tokens tokens = EvalFixtures.validationPrefix(runs, SEQ_LEN, 385);
            honest = evaluate(backend, reference, fixture, tokens, false, runs.resolve("honest.journal"));
            prequant = evaluate(backend, reference, fixture, tokens, true, runs.resolve("prequant.journal"));
        }
    }

    /** The TTT evaluation as a run's stage; with {@code prequant}, after pre-quant TTT's stage, as pgolf train runs them. */
    private static Path evaluate(CpuBackend backend, TinyReference reference, SafeTensors fixture, Tokens tokens,
                                 boolean prequant, Path file) throws Exception {
        TttConfig ttt = new TttConfig(true, 0.005, 0.9, 1, 128, 0, 1.0, 4);
        try (Gpt model = EvalFixtures.model(backend, reference, fixture, "step1.");
             MessageJournal journal = MessageJournal.create(file, MessageJournal.Options.DEFAULT)) {
            List<Stage<?>> stages = new ArrayList<>();
            long weightsVersion = 0;
            if (prequant) {
                stages.add(Stage.<PrequantTttTrained>of(RunStages.PREQUANT, done -> PrequantTttActor.supervisor(
                        new PrequantTttActor.Settings(model, tokens, SEQ_LEN, ttt.tttBatchSeqs(),
                                new PrequantTttConfig(true, 1e-3, 1, 0), 0, runs.resolve("prequant.safetensors"),
                                Map.of(), line -> { }), journal, done)));
                weightsVersion = 1;
            }
            TttDriver.Settings settings = new TttDriver.Settings(model, tokens, EvalFixtures.tables(), SEQ_LEN, STRIDE,
                    ttt, weightsVersion, journal, line -> { });
            stages.add(Stage.<TttFinished>of(EvaluationStages.TTT, done -> TttPipeline.supervisor(settings, done)));
            RunPipeline.run(stages, journal, Map.of(), line -> { });
        }
        return file;
    }

    private static List<JournalEntry> entries(Path journal) throws Exception {
        return JournalReader.readAll(journal).entries();
    }

    /** A copy of the honest journal with its entries rearranged; seqs are renumbered in the new order. */
    private Path doctored(String name, UnaryOperator<List<JournalEntry>> edit) throws Exception {
        Path file = dir.resolve(name);
        try (MessageJournal journal = MessageJournal.create(file, MessageJournal.Options.DEFAULT)) {
            for (JournalEntry e : edit.apply(new ArrayList<>(entries(honest)))) {
                journal.append(e.sender(), e.recipient(), e.message());
            }
        }
        return file;
    }

    private static int indexOf(List<JournalEntry> entries, Predicate<PipelineMessage> which) {
        for (int i = 0; i < entries.size(); i++) {
            if (which.test(entries.get(i).message())) {
                return i;
            }
        }
        throw new AssertionError("no such message in the journal");
    }

    private static Predicate<PipelineMessage> receiptOf(int chunk) {
        return m -> m instanceof ChunkScored r && r.chunk() == chunk;
    }

    private static ComplianceAudit.Offense onlyOffense(Path journal, ComplianceAudit.Condition condition)
            throws Exception {
        ComplianceAudit.Report report = ComplianceAudit.audit(entries(journal));
        assertEquals(List.of(condition), List.copyOf(report.offenses().keySet()), report.offenses().toString());
        return report.offense(condition).orElseThrow();
    }

    private static JournalEntry offendingEntry(ComplianceAudit.Offense offense) {
        return offense.entry().orElseThrow(() -> new AssertionError("no offending message: " + offense.reason()));
    }

    @Test
    void anHonestRunPassesAllFourConditions() {
        CliResult result = CliResult.run("audit", honest.toString());
        System.out.print(result.out());
        assertEquals(0, result.exit(), result.out() + result.err());
        List<String> lines = result.out().lines().toList();
        assertTrue(lines.getFirst().contains("record run, 385 tokens in 3 chunks, starting from weights version 0"),
                lines.getFirst());
        assertEquals(List.of("1 causal               PASS", "2 normalized           PASS",
                "3 score before update  PASS", "4 single pass          PASS"), lines.subList(1, 5));
        assertTrue(lines.get(5).startsWith("reported: val_loss ") && lines.get(5).endsWith(" over 384 tokens, record"
                + " run"), lines.get(5));
        assertEquals("verdict: PASS", lines.get(6));
    }

    @Test
    void trainingMovedBeforeItsReceiptBreaksScoreBeforeUpdate() throws Exception {
        Path journal = doctored("trained-early.journal", entries -> {
            JournalEntry trained = entries.remove(indexOf(entries, m -> m instanceof ChunkTrained));
            entries.add(indexOf(entries, receiptOf(0)), trained);
            return entries;
        });
        ComplianceAudit.Offense offense = onlyOffense(journal, ComplianceAudit.Condition.SCORE_BEFORE_UPDATE);
        JournalEntry entry = offendingEntry(offense);
        assertEquals(indexOf(entries(journal), m -> m instanceof ChunkTrained), entry.seq());
        assertEquals(0, assertInstanceOf(ChunkTrained.class, entry.message()).chunk());
        assertEquals("trains on token 1 before it is scored", offense.reason());

        CliResult result = CliResult.run("audit", journal.toString());
        System.out.print(result.out());
        assertEquals(1, result.exit());
        assertTrue(result.out().contains("3 score before update  FAIL  seq " + entry.seq() + " ChunkTrained(chunk 0,"
                + " tokens [0, 129), weights version 0 -> 1) from ttt-evaluator to /user/eval-ttt/ttt-driver: trains on"
                + " token 1 before it is scored"), result.out());
        assertTrue(result.out().contains("verdict: FAIL (1 of 4 conditions broken)"), result.out());
    }

    @Test
    void aTrainRequestMovedBeforeItsReceiptBreaksScoreBeforeUpdate() throws Exception {
        Path journal = doctored("request-early.journal", entries -> {
            JournalEntry request = entries.remove(indexOf(entries,
                    m -> m instanceof TrainOnChunk t && t.chunk() == 1));
            entries.add(indexOf(entries, receiptOf(1)), request);
            return entries;
        });
        ComplianceAudit.Offense offense = onlyOffense(journal, ComplianceAudit.Condition.SCORE_BEFORE_UPDATE);
        assertEquals(indexOf(entries(journal), m -> m instanceof TrainOnChunk t && t.chunk() == 1),
                offendingEntry(offense).seq());
        assertEquals("asks to train on chunk 1 before that chunk's receipt is in the journal", offense.reason());
    }

    @Test
    void aDuplicatedReceiptBreaksSinglePass() throws Exception {
        Path journal = doctored("duplicate.journal", entries -> {
            int first = indexOf(entries, receiptOf(0));
            entries.add(first + 1, entries.get(first));
            return entries;
        });
        ComplianceAudit.Offense offense = onlyOffense(journal, ComplianceAudit.Condition.SINGLE_PASS);
        int first = indexOf(entries(journal), receiptOf(0));
        assertEquals(first + 1, offendingEntry(offense).seq());
        assertEquals("scores token 1 again (first scored at seq " + first + ")", offense.reason());
    }

    @Test
    void aDroppedReceiptLeavesTokensUnscored() throws Exception {
        Path journal = doctored("dropped.journal", entries -> {
            entries.remove(indexOf(entries, receiptOf(2)));
            return entries;
        });
        ComplianceAudit.Offense offense = onlyOffense(journal, ComplianceAudit.Condition.SINGLE_PASS);
        assertEquals(Optional.empty(), offense.entry());
        assertEquals("tokens [257, 385) are never scored though the evaluation reported its totals",
                offense.reason());
    }

    /** The last chunk's receipt rescored by a scorer that is not causal, or one whose softmax misses a class. */
    @Test
    void receiptsOfAnotherScoringMethodBreakCausalityOrNormalization() throws Exception {
        UnaryOperator<ChunkScored> nonCausal = r -> withMethod(r, new ScoringMethod(false, r.method().softmaxClasses()));
        ComplianceAudit.Offense causal = onlyOffense(lastReceiptEdited("noncausal.journal", nonCausal),
                ComplianceAudit.Condition.CAUSAL);
        assertEquals("scores token 257 without causal attention: its context is the window's inputs [232, 264),"
                + " which hold it", causal.reason());
        UnaryOperator<ChunkScored> partial = r -> withMethod(r, new ScoringMethod(true, EvalFixtures.VOCAB - 1));
        ComplianceAudit.Offense normalized = onlyOffense(lastReceiptEdited("partial.journal", partial),
                ComplianceAudit.Condition.NORMALIZED);
        assertEquals("its softmax normalizes over 1023 classes, not the whole vocabulary of 1024",
                normalized.reason());
        UnaryOperator<ChunkScored> shifted = r -> new ChunkScored(r.evaluationId(), r.chunk(), r.lastChunk(),
                r.weightsVersion(), r.method(), r.windows().stream().map(w -> new ScoredWindow(w.scoredFrom(),
                w.inputTo(), w.scoredFrom(), w.scoredTo())).toList(), r.nats(), r.tokens(), r.bytes());
        ComplianceAudit.Offense context = onlyOffense(lastReceiptEdited("shifted.journal", shifted),
                ComplianceAudit.Condition.CAUSAL);
        assertEquals("scores token 257 in a window whose inputs start at 257: no context before it predicts it",
                context.reason());
    }

    private Path lastReceiptEdited(String name, UnaryOperator<ChunkScored> edit) throws Exception {
        return doctored(name, entries -> {
            int last = indexOf(entries, receiptOf(2));
            JournalEntry e = entries.get(last);
            entries.set(last, new JournalEntry(e.seq(), e.timestampNanos(), e.sender(), e.recipient(),
                    edit.apply((ChunkScored) e.message())));
            return entries;
        });
    }

    private static ChunkScored withMethod(ChunkScored r, ScoringMethod method) {
        return new ChunkScored(r.evaluationId(), r.chunk(), r.lastChunk(), r.weightsVersion(), method, r.windows(),
                r.nats(), r.tokens(), r.bytes());
    }

    /** A forged request that the evaluator rejected did nothing; one that it did not reject is an offense. */
    @Test
    void onlyRequestsTheEvaluatorAcceptedAreJudged() throws Exception {
        TttStarted started = (TttStarted) entries(honest).getFirst().message();
        TrainOnChunk forged = new TrainOnChunk(new ChunkScored(started.evaluationId(), 0, false, 0,
                new ScoringMethod(true, EvalFixtures.VOCAB), List.of(new ScoredWindow(0, 32, 1, 33)), 1.0, 32, 40));
        JournalEntry request = new JournalEntry(0, 0, "/user/intruder", "/user/ttt-driver/ttt-evaluator", forged);
        JournalEntry rejection = new JournalEntry(0, 0, "/user/ttt-driver/ttt-evaluator", "/user/intruder",
                new Rejected(started.evaluationId(), forged, "chunk 0 is not scored yet; no scored chunk awaits"
                        + " training"));
        Path rejected = doctored("rejected.journal", entries -> {
            entries.addAll(1, List.of(request, rejection));
            return entries;
        });
        CliResult result = CliResult.run("audit", rejected.toString());
        assertEquals(0, result.exit(), result.out());
        assertTrue(result.out().contains("1 request(s) rejected by the evaluator"), result.out());

        Path accepted = doctored("unrejected.journal", entries -> {
            entries.add(1, request);
            return entries;
        });
        ComplianceAudit.Offense offense = onlyOffense(accepted, ComplianceAudit.Condition.SCORE_BEFORE_UPDATE);
        assertEquals(1, offendingEntry(offense).seq());
    }

    @Test
    void aPrequantRunBreaksScoreBeforeUpdateAtItsTraining() throws Exception {
        ComplianceAudit.Offense offense = onlyOffense(prequant, ComplianceAudit.Condition.SCORE_BEFORE_UPDATE);
        JournalEntry entry = offendingEntry(offense);
        assertEquals(0, entry.seq());
        assertInstanceOf(PrequantTttTrained.class, entry.message());
        assertEquals("trains on token 1 before it is scored", offense.reason());

        CliResult result = CliResult.run("audit", prequant.toString());
        System.out.print(result.out());
        assertEquals(1, result.exit());
        List<String> lines = result.out().lines().toList();
        assertTrue(lines.getFirst().contains("non-record run, 385 tokens in 3 chunks, starting from weights version 1"),
                lines.getFirst());
        assertEquals("3 score before update  FAIL  seq 0 PrequantTttTrained(tokens [0, 385), 1 epochs, weights"
                + " version 0 -> 1) from prequant-ttt to /user/prequant-ttt/prequant-listener: trains on token 1 before"
                + " it is scored",
                lines.get(3));
    }

    @Test
    void aJournalWithoutAnEvaluationOrAFileFails() throws Exception {
        Path empty = dir.resolve("empty.journal");
        MessageJournal.create(empty, MessageJournal.Options.DEFAULT).close();
        CliResult none = CliResult.run("audit", empty.toString());
        assertEquals(1, none.exit());
        assertTrue(none.out().contains("no TTT evaluation (TttStarted) among its 0 messages"), none.out());

        Path missing = dir.resolve("missing.journal");
        CliResult absent = CliResult.run("audit", missing.toString());
        assertEquals(1, absent.exit());
        assertTrue(absent.err().contains(missing.toString()), absent.err());
    }
}
