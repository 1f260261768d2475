package io.pgolf.actors;

import io.pgolf.config.TttConfig;
import io.pgolf.data.SafeTensors;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.TinyReference;
import io.pgolf.model.eval.EvalFixtures;
import io.pgolf.model.eval.ScoreFirstTtt;
import io.pgolf.protocol.ChunkScored;
import io.pgolf.protocol.ChunkTrained;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.PipelineMessage;
import io.pgolf.protocol.Rejected;
import io.pgolf.protocol.RunKind;
import io.pgolf.protocol.ScoreChunk;
import io.pgolf.protocol.ScoredWindow;
import io.pgolf.protocol.ScoringMethod;
import io.pgolf.protocol.TokenSpan;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TrainOnChunk;
import io.pgolf.protocol.TttEvent;
import io.pgolf.protocol.TttRequest;
import io.pgolf.protocol.TttStarted;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TTT evaluator's state machine, driven by hand through a probe: what it accepts, what it rejects and what it
 * journals. The tiny model over 385 validation tokens: 3 chunks of 128 targets, windows of 32 every 8.
 */
class TttEvaluatorActorTest {
    private static final int SEQ_LEN = 32;
    private static final int STRIDE = 8;
    private static final String EVALUATION_ID = "a2c9d1e0-evaluation";
    private static final Duration COMPUTE = Duration.ofSeconds(60);
    private static final ActorTestKit TEST_KIT = ActorTestKit.create();

    @TempDir
    static Path shared;
    private static TinyReference reference;
    private static SafeTensors fixture;
    private static CpuBackend backend;
    private static Tokens tokens;
    private static ByteTables tables;

    @TempDir
    Path dir;
    private Path journalFile;
    private MessageJournal journal;
    private Gpt model;
    private TestProbe<TttEvent> probe;
    private ActorRef<TttEvaluatorActor.Request> evaluator;
    private TttStarted started;

    @BeforeAll
    static void open() throws Exception {
        reference = TinyReference.load();
        fixture = SafeTensors.open(TinyReference.tensors());
        backend = new CpuBackend(2);
        tokens = EvalFixtures.validationPrefix(shared, SEQ_LEN, 385);
        tables = EvalFixtures.tables();
    }

    @AfterAll
    static void close() {
        TEST_KIT.shutdownTestKit();
        backend.close();
        fixture.close();
    }

    @BeforeEach
    void startEvaluator() throws Exception {
        journalFile = dir.resolve("ttt.journal");
        journal = MessageJournal.create(journalFile, MessageJournal.Options.DEFAULT);
        model = EvalFixtures.model(backend, reference, fixture, "step1.");
        ScoreFirstTtt engine = new ScoreFirstTtt(model, tokens, SEQ_LEN, STRIDE,
                new TttConfig(true, 0.005, 0.9, 2, 128, 0, 1.0, 4), tables);
        probe = TEST_KIT.createTestProbe();
        evaluator = TEST_KIT.spawn(TttEvaluatorActor.create(engine, RunKind.RECORD, 0, EVALUATION_ID, probe.ref(),
                journal));
        started = probe.expectMessageClass(TttStarted.class);
    }

    @AfterEach
    void stopEvaluator() throws Exception {
        TEST_KIT.stop(evaluator);
        journal.close();
        model.close();
    }

    private void send(TttRequest request) {
        evaluator.tell(new TttEvaluatorActor.Request(request, probe.ref()));
    }

    private <T extends TttEvent> T answer(TttRequest request, Class<T> type) {
        send(request);
        return probe.expectMessageClass(type, COMPUTE);
    }

    private String rejection(TttRequest request) {
        Rejected rejected = answer(request, Rejected.class);
        assertEquals(new Rejected(started.evaluationId(), request, rejected.reason()), rejected);
        return rejected.reason();
    }

    private ScoreChunk score(int chunk) {
        return new ScoreChunk(started.evaluationId(), chunk);
    }

    private List<JournalEntry> journaled() throws Exception {
        journal.flush();
        return JournalReader.readAll(journalFile).entries();
    }

    @Test
    void startsWithThePlanAndItsEvaluationId() {
        assertEquals(new TttStarted(EVALUATION_ID, RunKind.RECORD, 385, EvalFixtures.VOCAB, SEQ_LEN, STRIDE,
                128, 3, List.of(0, 1, 2), 0), started);
    }

    @Test
    void aTrainingRequestCannotBeBuiltWithoutAReceiptOrFromTheLastChunks() {
        assertThrows(NullPointerException.class, () -> new TrainOnChunk(null));
        ChunkScored last = new ChunkScored(started.evaluationId(), 2, true, 2, new ScoringMethod(true, 1024),
                List.of(new ScoredWindow(352, 384, 361, 385)), 10.0, 8, 12);
        assertEquals("chunk 2 is the last chunk, which is never trained on",
                assertThrows(IllegalArgumentException.class, () -> new TrainOnChunk(last)).getMessage());
    }

    /** A receipt made up for a chunk not yet scored is rejected, journaled, and trains nothing. */
    @Test
    void trainingOnAnUnscoredChunkIsRejectedAndJournaled() throws Exception {
        Map<String, float[]> before = model.parameters().valuesOnHost();
        TrainOnChunk forged = new TrainOnChunk(new ChunkScored(started.evaluationId(), 0, false, 0,
                new ScoringMethod(true, EvalFixtures.VOCAB), List.of(new ScoredWindow(0, 32, 1, 33)), 1.0, 32, 40));
        assertEquals("chunk 0 is not scored yet; no scored chunk awaits training", rejection(forged));
        model.parameters().valuesOnHost().forEach((name, values) ->
                assertArrayEquals(before.get(name), values, 0f, name + " changed"));

        List<JournalEntry> entries = journaled();
        assertEquals(2, entries.size());
        String probePath = probe.ref().path().toStringWithoutAddress();
        String evaluatorPath = evaluator.path().toStringWithoutAddress();
        assertEquals(new JournalEntry(0, entries.get(0).timestampNanos(), probePath, evaluatorPath, forged),
                entries.get(0));
        assertEquals(new JournalEntry(1, entries.get(1).timestampNanos(), evaluatorPath, probePath,
                new Rejected(started.evaluationId(), forged, "chunk 0 is not scored yet; no scored chunk awaits"
                        + " training")), entries.get(1));
    }

    @Test
    void onlyTheIssuedReceiptTrainsAndOnlyOnce() throws Exception {
        ChunkScored receipt = answer(score(0), ChunkScored.class);
        assertEquals(0, receipt.weightsVersion());
        assertEquals(new ScoredWindow(0, 32, 1, 33), receipt.windows().getFirst());
        // The last window of chunk 0 is the last whose first scored target (start + 24) lies before 128.
        assertEquals(new ScoredWindow(96, 128, 121, 129), receipt.windows().getLast());
        assertEquals(128, receipt.tokens());

        ChunkScored altered = new ChunkScored(receipt.evaluationId(), 0, false, 0, receipt.method(),
                receipt.windows(), receipt.nats() - 1, receipt.tokens(), receipt.bytes());
        assertEquals("the receipt for chunk 0 is not the one this evaluator issued",
                rejection(new TrainOnChunk(altered)));
        ChunkScored ofChunk1 = new ChunkScored(receipt.evaluationId(), 1, false, 0, receipt.method(),
                receipt.windows(), receipt.nats(), receipt.tokens(), receipt.bytes());
        assertEquals("receipt is for chunk 1, but the chunk awaiting training is 0",
                rejection(new TrainOnChunk(ofChunk1)));

        ChunkTrained trained = answer(new TrainOnChunk(receipt), ChunkTrained.class);
        assertEquals(new ChunkTrained(started.evaluationId(), 0, 0, 1, new TokenSpan(0, 129), 2, 2, 0.005,
                trained.meanLoss()), trained);
        assertEquals("chunk 0 is already trained on", rejection(new TrainOnChunk(receipt)));

        ChunkScored next = answer(score(1), ChunkScored.class);
        assertEquals(1, next.weightsVersion());
        assertEquals("chunk 0 is already trained on", rejection(new TrainOnChunk(receipt)));

        List<String> types = journaled().stream().map(e -> e.message().getClass().getSimpleName()).toList();
        assertEquals(Stream.of(ScoreChunk.class, TrainOnChunk.class, Rejected.class, TrainOnChunk.class,
                Rejected.class, TrainOnChunk.class, TrainOnChunk.class, Rejected.class, ScoreChunk.class,
                TrainOnChunk.class, Rejected.class).map(Class::getSimpleName).toList(), types);
    }

    @Test
    void scoringFollowsTheChunkOrderAndWaitsForTraining() {
        assertEquals("chunk 1 is out of order: the next chunk to score is 0", rejection(score(1)));
        ScoreChunk foreign = new ScoreChunk("another-evaluation", 0);
        assertEquals("request for evaluation another-evaluation, this evaluator runs " + started.evaluationId(),
                rejection(foreign));
        ChunkScored receipt = answer(score(0), ChunkScored.class);
        assertEquals("chunk 0 is scored but not trained on; train on it before scoring chunk 1",
                rejection(score(1)));
        assertEquals("chunk 0 is scored but not trained on; train on it before scoring chunk 0",
                rejection(score(0)));
        answer(new TrainOnChunk(receipt), ChunkTrained.class);
        assertEquals("chunk 0 is already scored", rejection(score(0)));
    }

    @Test
    void theLastReceiptEndsTheEvaluation() throws Exception {
        answer(new TrainOnChunk(answer(score(0), ChunkScored.class)), ChunkTrained.class);
        answer(new TrainOnChunk(answer(score(1), ChunkScored.class)), ChunkTrained.class);
        ChunkScored last = answer(score(2), ChunkScored.class);
        assertTrue(last.lastChunk());
        assertEquals(2, last.weightsVersion());
        assertEquals(385, last.windows().getLast().scoredTo());
        assertEquals("the evaluation is over: every chunk is scored", rejection(score(2)));
        List<PipelineMessage> messages = journaled().stream().map(JournalEntry::message).toList();
        assertEquals(score(2), messages.get(messages.size() - 2));
    }
}
