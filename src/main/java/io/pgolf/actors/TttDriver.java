package io.pgolf.actors;

import io.pgolf.config.PrequantTttConfig;
import io.pgolf.config.TttConfig;
import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.model.Gpt;
import io.pgolf.model.eval.ScoreFirstTtt;
import io.pgolf.protocol.ChunkScored;
import io.pgolf.protocol.ChunkTrained;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.PipelineMessage;
import io.pgolf.protocol.PrequantTttTrained;
import io.pgolf.protocol.Rejected;
import io.pgolf.protocol.RunKind;
import io.pgolf.protocol.ScoreChunk;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TrainOnChunk;
import io.pgolf.protocol.TttFinished;
import io.pgolf.protocol.TttStarted;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Runs one TTT evaluation: spawns a {@link TttEvaluatorActor}, asks it to score each chunk in the order its
 * {@link TttStarted} lists, answers every receipt but the last chunk's with the {@link TrainOnChunk} built from it,
 * sums the receipts, and ends by telling its listener {@link TttFinished}. With pre-quant TTT configured it first
 * runs a {@link PrequantTttActor} and then evaluates the weights it made as a {@link RunKind#NON_RECORD} run.
 *
 * <p>Every message it receives is journaled, except {@link Rejected}, which the evaluator journals as it rejects; a
 * rejection of the driver's own request is a bug, and fails the driver.
 */
public final class TttDriver extends AbstractBehavior<PipelineMessage> {
    static final String EVALUATOR = "ttt-evaluator";
    static final String PREQUANT = "prequant-ttt";

    /**
     * What an evaluation needs. The model is the caller's: the run changes its weights and leaves it open.
     *
     * @param seqLen   EVAL_SEQ_LEN: the windows' length, and the length of TTT's training sequences
     * @param stride   EVAL_STRIDE
     * @param prequant pre-quant TTT to run first (non-record), in batches of TTT_BATCH_SEQS sequences of seqLen
     * @param log      progress lines
     */
    public record Settings(Gpt model, Tokens tokens, ByteTables tables, int seqLen, int stride, TttConfig ttt,
                           Optional<PrequantTttConfig> prequant, MessageJournal journal, Consumer<String> log) {
    }

    private final Settings settings;
    private final DispatcherSelector compute;
    private final ActorRef<TttFinished> listener;
    private ActorRef<TttEvaluatorActor.Request> evaluator;
    private TttStarted started;
    private int next;
    private double nats;
    private long tokens;
    private long bytes;
    private int chunksScored;
    private int chunksTrained;
    private long startNanos;

    private TttDriver(ActorContext<PipelineMessage> context, Settings settings, DispatcherSelector compute,
                      ActorRef<TttFinished> listener) {
        super(context);
        this.settings = settings;
        this.compute = compute;
        this.listener = listener;
        if (settings.prequant().isPresent()) {
            settings.log().accept("pre-quant TTT on the validation tokens: a non-record run");
            context.spawn(PrequantTttActor.create(settings.model(), settings.tokens(), settings.seqLen(),
                    settings.ttt().tttBatchSeqs(), settings.prequant().get(), 0,
                    context.getSelf().narrow()), PREQUANT, compute);
        } else {
            spawnEvaluator(RunKind.RECORD, 0);
        }
    }

    /**
     * @param compute  the dispatcher for the evaluator's and pre-quant TTT's blocking compute
     * @param listener receives {@link TttFinished}
     */
    public static Behavior<PipelineMessage> create(Settings settings, DispatcherSelector compute,
                                                   ActorRef<TttFinished> listener) {
        Behavior<PipelineMessage> driver = Behaviors.setup(context -> new TttDriver(context, settings, compute,
                listener));
        return Journaling.wrap(driver, settings.journal(),
                message -> message instanceof PrequantTttTrained ? PREQUANT : EVALUATOR,
                message -> message instanceof Rejected ? null : message);
    }

    @Override
    public Receive<PipelineMessage> createReceive() {
        return newReceiveBuilder()
                .onMessage(PrequantTttTrained.class, this::onPrequantTrained)
                .onMessage(TttStarted.class, this::onStarted)
                .onMessage(ChunkScored.class, this::onScored)
                .onMessage(ChunkTrained.class, this::onTrained)
                .onMessage(Rejected.class, rejected -> {
                    throw new IllegalStateException("the TTT evaluator rejected " + rejected.request() + ": "
                            + rejected.reason());
                })
                .onSignal(ChildFailed.class, failed -> {
                    throw PipelineSystem.failureOf(failed);
                })
                .build();
    }

    private Behavior<PipelineMessage> onPrequantTrained(PrequantTttTrained trained) {
        settings.log().accept(String.format(Locale.ROOT, "pre-quant TTT: %d epochs, %d steps on tokens %s, last"
                        + " epoch loss %.6f", trained.epochs(), trained.optimizerSteps(), trained.tokensRead(),
                trained.epochLosses().isEmpty() ? Double.NaN : trained.epochLosses().getLast()));
        spawnEvaluator(RunKind.NON_RECORD, trained.toVersion());
        return this;
    }

    private void spawnEvaluator(RunKind runKind, long weightsVersion) {
        ScoreFirstTtt engine = new ScoreFirstTtt(settings.model(), settings.tokens(), settings.seqLen(),
                settings.stride(), settings.ttt(), settings.tables());
        evaluator = getContext().spawn(TttEvaluatorActor.create(engine, runKind, weightsVersion,
                getContext().getSelf().narrow(), settings.journal()), EVALUATOR, compute);
        getContext().watch(evaluator);
    }

    private Behavior<PipelineMessage> onStarted(TttStarted started) {
        this.started = started;
        startNanos = System.nanoTime();
        settings.log().accept(String.format(Locale.ROOT, "TTT evaluation %s: %,d tokens in %d chunks (%s run)",
                started.evaluationId(), started.tokens(), started.chunkCount(), describe(started.runKind())));
        requestScore();
        return this;
    }

    private Behavior<PipelineMessage> onScored(ChunkScored receipt) {
        int expected = started.scoredChunks().get(next);
        if (receipt.chunk() != expected) {
            throw new IllegalStateException("asked to score chunk " + expected + " but got the receipt of chunk "
                    + receipt.chunk());
        }
        next++;
        nats += receipt.nats();
        tokens += receipt.tokens();
        bytes += receipt.bytes();
        chunksScored++;
        settings.log().accept(String.format(Locale.ROOT, "ttt chunk %d/%d scored: %d tokens, loss %.6f"
                        + " (weights version %d)", receipt.chunk() + 1, started.chunkCount(), receipt.tokens(),
                receipt.nats() / receipt.tokens(), receipt.weightsVersion()));
        if (receipt.lastChunk()) {
            return finish();
        }
        evaluator.tell(new TttEvaluatorActor.Request(new TrainOnChunk(receipt), getContext().getSelf().narrow()));
        return this;
    }

    private Behavior<PipelineMessage> onTrained(ChunkTrained trained) {
        chunksTrained++;
        settings.log().accept(String.format(Locale.ROOT, "ttt chunk %d/%d trained: %d steps at lr %.6g, mean loss"
                        + " %.6f", trained.chunk() + 1, started.chunkCount(), trained.optimizerSteps(),
                trained.learningRate(), trained.meanLoss()));
        if (next == started.scoredChunks().size()) {
            return finish();
        }
        requestScore();
        return this;
    }

    private void requestScore() {
        evaluator.tell(new TttEvaluatorActor.Request(new ScoreChunk(started.evaluationId(),
                started.scoredChunks().get(next)), getContext().getSelf().narrow()));
    }

    /** The totals as {@link BitsPerByte} computes them, so they equal an engine run's to the bit. */
    private Behavior<PipelineMessage> finish() {
        BitsPerByte.Totals totals = new BitsPerByte.Totals(nats, tokens, bytes);
        TttFinished finished = new TttFinished(started.evaluationId(), started.runKind(), totals.meanLoss(),
                totals.bitsPerByte(), tokens, bytes, chunksScored, chunksTrained,
                (System.nanoTime() - startNanos) / 1e9);
        settings.log().accept(String.format(Locale.ROOT, "ttt: val_loss %.8f val_bpb %.8f over %,d tokens (%s run)",
                finished.valLoss(), finished.valBpb(), tokens, describe(started.runKind())));
        listener.tell(finished);
        return Behaviors.stopped();
    }

    private static String describe(RunKind kind) {
        return kind == RunKind.RECORD ? "record" : "non-record";
    }
}
