package io.pgolf.actors;

import io.pgolf.config.PrequantTttConfig;
import io.pgolf.data.SafeTensors;
import io.pgolf.deploy.ComplianceAudit;
import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.TinyReference;
import io.pgolf.model.eval.EvalFixtures;
import io.pgolf.model.eval.PrequantTtt;
import io.pgolf.model.eval.ScoreFirstTtt;
import io.pgolf.protocol.ChunkScored;
import io.pgolf.protocol.ChunkTrained;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.PipelineMessage;
import io.pgolf.protocol.PrequantTttTrained;
import io.pgolf.protocol.RunKind;
import io.pgolf.protocol.ScoreChunk;
import io.pgolf.protocol.StageFinished;
import io.pgolf.protocol.TokenSpan;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TrainOnChunk;
import io.pgolf.protocol.TttFinished;
import io.pgolf.protocol.TttStarted;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TTT evaluations run as actors over the tiny reference model (step1 weights, depth loop on). */
class TttPipelineTest {
    @TempDir
    static Path shared;
    private static TinyReference reference;
    private static SafeTensors fixture;
    private static CpuBackend backend;
    private static ByteTables tables;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() throws Exception {
        reference = TinyReference.load();
        fixture = SafeTensors.open(TinyReference.tensors());
        backend = new CpuBackend(2);
        tables = EvalFixtures.tables();
    }

    @AfterAll
    static void close() {
        backend.close();
        fixture.close();
    }

    /** A run of the pipeline; its journal is complete when this returns. */
    private TttFinished run(Gpt model, Tokens tokens, Path journalFile, List<String> log) throws Exception {
        try (MessageJournal journal = MessageJournal.create(journalFile, MessageJournal.Options.DEFAULT)) {
            return TttPipeline.run(settings(model, tokens, 0, journal, log));
        }
    }

    private TttDriver.Settings settings(Gpt model, Tokens tokens, long weightsVersion, MessageJournal journal,
                                        List<String> log) {
        return new TttDriver.Settings(model, tokens, tables, reference.evalSeqLen(), reference.evalStride(),
                reference.tttConfig(), weightsVersion, journal, log::add);
    }

    /**
     * The fixture's evaluation (the first 2,049 validation tokens, 4 chunks): the actors' totals and final weights are
     * the engine's, bit for bit; the journal holds the protocol's messages in order and passes the audit.
     */
    @Test
    void anActorRunEqualsTheEngineRunBitForBit() throws Exception {
        Tokens tokens = EvalFixtures.validationPrefix(dir, reference.evalSeqLen(), 2049);
        BitsPerByte.Totals engineTotals;
        Map<String, float[]> engineWeights;
        try (Gpt model = EvalFixtures.model(backend, reference, fixture, "step1.");
             ScoreFirstTtt ttt = new ScoreFirstTtt(model, tokens, reference.evalSeqLen(), reference.evalStride(),
                     reference.tttConfig(), tables)) {
            engineTotals = ttt.run();
            engineWeights = model.parameters().valuesOnHost();
        }
        Path journalFile = dir.resolve("ttt.journal");
        List<String> log = new ArrayList<>();
        try (Gpt model = EvalFixtures.model(backend, reference, fixture, "step1.")) {
            TttFinished finished = run(model, tokens, journalFile, log);
            System.out.printf("actor TTT: val_loss %.9f val_bpb %.9f (engine %.9f %.9f)%n", finished.valLoss(),
                    finished.valBpb(), engineTotals.meanLoss(), engineTotals.bitsPerByte());
            assertEquals(engineTotals.meanLoss(), finished.valLoss());
            assertEquals(engineTotals.bitsPerByte(), finished.valBpb());
            assertEquals(engineTotals.tokens(), finished.tokens());
            assertEquals(engineTotals.bytes(), finished.bytes());
            assertEquals(RunKind.RECORD, finished.runKind());
            assertEquals(4, finished.chunksScored());
            assertEquals(3, finished.chunksTrained());
            model.parameters().valuesOnHost().forEach((name, values) ->
                    assertArrayEquals(engineWeights.get(name), values, 0f, name));
        }
        List<JournalEntry> entries = JournalReader.readAll(journalFile).entries();
        ComplianceAudit.Report audit = ComplianceAudit.audit(entries);
        assertTrue(audit.passed(), audit.offenses().toString());
        List<PipelineMessage> messages = entries.stream().map(JournalEntry::message).toList();
        // The driver gives each evaluation a fresh random id.
        UUID.fromString(assertInstanceOf(TttStarted.class, messages.getFirst()).evaluationId());
        List<Class<?>> expected = new ArrayList<>(List.of(TttStarted.class));
        for (int chunk = 0; chunk < 3; chunk++) {
            expected.addAll(List.of(ScoreChunk.class, ChunkScored.class, TrainOnChunk.class, ChunkTrained.class));
        }
        expected.addAll(List.of(ScoreChunk.class, ChunkScored.class, TttFinished.class));
        assertEquals(expected, messages.stream().map(m -> (Class<?>) m.getClass()).toList());
        assertEquals(log.getLast(), String.format(java.util.Locale.ROOT, "ttt: val_loss %.8f val_bpb %.8f over"
                + " %,d tokens (record run)", engineTotals.meanLoss(), engineTotals.bitsPerByte(),
                engineTotals.tokens()));
    }

    /**
     * Pre-quant TTT as the stage before an evaluation: it trains on every validation token first and writes the weights
     * the engine makes, and the evaluation of those weights (version 1) is labelled non-record.
     */
    @Test
    void aPrequantStageTrainsOnTheTokensFirstAndItsWeightsAreEvaluatedAsNonRecord() throws Exception {
        Tokens tokens = EvalFixtures.validationPrefix(dir, reference.evalSeqLen(), 1025);
        PrequantTttConfig config = new PrequantTttConfig(true, 1e-3, 1, 0);
        int batchSeqs = reference.tttConfig().tttBatchSeqs();
        Map<String, float[]> engineWeights;
        try (Gpt model = EvalFixtures.model(backend, reference, fixture, "step1.")) {
            PrequantTtt.train(model, tokens, reference.evalSeqLen(), batchSeqs, config);
            engineWeights = model.parameters().valuesOnHost();
        }
        Path journalFile = dir.resolve("prequant.journal");
        Path weightsFile = dir.resolve("prequant.safetensors");
        List<String> log = new ArrayList<>();
        try (Gpt model = EvalFixtures.model(backend, reference, fixture, "step1.");
             MessageJournal journal = MessageJournal.create(journalFile, MessageJournal.Options.DEFAULT)) {
            RunPipeline.Stage<PrequantTttTrained> prequant = RunPipeline.Stage.of("prequant-ttt", done ->
                    PrequantTttActor.supervisor(new PrequantTttActor.Settings(model, tokens, reference.evalSeqLen(),
                            batchSeqs, config, 0, weightsFile, Map.of("note", "test"), log::add), journal, done));
            RunPipeline.Stage<TttFinished> ttt = RunPipeline.Stage.of("eval-ttt", done ->
                    TttPipeline.supervisor(settings(model, tokens, prequant.result().toVersion(), journal, log), done));
            RunPipeline.run(List.of(prequant, ttt), journal, Map.of(), log::add);
            assertEquals(RunKind.NON_RECORD, ttt.result().runKind());
        }
        try (SafeTensors written = SafeTensors.open(weightsFile);
             Gpt adapted = Gpt.zeros(backend, reference.layout())) {
            assertEquals("test", written.metadata().get("note"));
            adapted.parameters().loadFrom(written, "");
            adapted.parameters().valuesOnHost().forEach((name, values) ->
                    assertArrayEquals(engineWeights.get(name), values, 0f, name));
        }
        List<PipelineMessage> messages = JournalReader.readAll(journalFile).entries().stream()
                .map(JournalEntry::message).toList();
        PrequantTttTrained trained = assertInstanceOf(PrequantTttTrained.class, messages.get(0));
        assertEquals(new TokenSpan(0, 1025), trained.tokensRead());
        assertEquals(1, trained.toVersion());
        assertInstanceOf(StageFinished.class, messages.get(1));
        TttStarted started = assertInstanceOf(TttStarted.class, messages.get(2));
        assertEquals(RunKind.NON_RECORD, started.runKind());
        assertEquals(1, started.weightsVersion());
        ChunkScored first = assertInstanceOf(ChunkScored.class, messages.get(4));
        assertEquals(1, first.weightsVersion());
    }
}
