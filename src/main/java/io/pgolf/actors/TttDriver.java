package io.pgolf.actors;

import io.pgolf.config.TttConfig;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.model.Gpt;
import io.pgolf.model.eval.ScoreFirstTtt;
import io.pgolf.protocol.ChunkScored;
import io.pgolf.protocol.ChunkTrained;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.PipelineMessage;
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

import java.util.UUID;
import java.util.function.Consumer;

/**
 * Runs one TTT evaluation: spawns a {@link TttEvaluatorActor}, asks it to score each chunk in the order its
 * {@link TttStarted} lists, answers every receipt but the last chunk's with the {@link TrainOnChunk} built from it,
 * sums the receipts, and ends by telling its listener {@link TttFinished}. Weights that have trained on validation
 * tokens before (pre-quant TTT, a stage of its own before GPTQ) are evaluated as a {@link RunKind#NON_RECORD} run.
 *
 * <p>Every message it receives is journaled, except {@link Rejected}, which the evaluator journals as it rejects; a
 * rejection of the driver's own request is a bug, and fails the driver.
 */
public final class TttDriver extends AbstractBehavior<PipelineMessage> {
    static final String EVALUATOR = "ttt-evaluator";

    /**
     * What an evaluation needs. The model is the caller's: the run changes its weights and leaves it open.
     *
     * @param seqLen         EVAL_SEQ_LEN: the windows' length, and the length of TTT's training sequences
     * @param stride         EVAL_STRIDE
     * @param weightsVersion the version of the model's weights: 0 for weights that never trained on a validation
     *                       token; any other (pre-quant TTT made them) makes the evaluation {@link RunKind#NON_RECORD}
     * @param log            progress lines
     */
    public record Settings(Gpt model, Tokens tokens, ByteTables tables, int seqLen, int stride, TttConfig ttt,
                           long weightsVersion, MessageJournal journal, Consumer<String> log) {
        public Settings {
            if (weightsVersion < 0) {
                throw new IllegalArgumentException("weights versions are not negative, got " + weightsVersion);
            }
        }

        public RunKind runKind() {
            return weightsVersion == 0 ? RunKind.RECORD : RunKind.NON_RECORD;
        }
    }

    private final ActorRef<TttFinished> listener;
    private final ActorRef<TttEvaluatorActor.Request> evaluator;
    private final TttTally tally;
    private TttStarted started;
    private int next;

    private TttDriver(ActorContext<PipelineMessage> context, Settings settings, DispatcherSelector compute,
                      ActorRef<TttFinished> listener) {
        super(context);
        this.listener = listener;
        this.tally = new TttTally(settings.log());
        this.evaluator = spawnEvaluator(context, settings, UUID.randomUUID().toString(), compute);
    }

    /**
     * @param compute  the dispatcher for the evaluator's blocking compute
     * @param listener receives {@link TttFinished}
     */
    public static Behavior<PipelineMessage> create(Settings settings, DispatcherSelector compute,
                                                   ActorRef<TttFinished> listener) {
        return journaled(Behaviors.setup(context -> new TttDriver(context, settings, compute, listener)), settings);
    }

    /** A driver's evaluator, with the engine for {@code settings}, watched by the driver. */
    static ActorRef<TttEvaluatorActor.Request> spawnEvaluator(ActorContext<PipelineMessage> context,
                                                              Settings settings, String evaluationId,
                                                              DispatcherSelector compute) {
        ScoreFirstTtt engine = new ScoreFirstTtt(settings.model(), settings.tokens(), settings.seqLen(),
                settings.stride(), settings.ttt(), settings.tables());
        ActorRef<TttEvaluatorActor.Request> evaluator = context.spawn(TttEvaluatorActor.create(engine,
                settings.runKind(), settings.weightsVersion(), evaluationId, context.getSelf().narrow(),
                settings.journal()), EVALUATOR, compute);
        context.watch(evaluator);
        return evaluator;
    }

    /** A driver journals every answer it receives but {@link Rejected}, which the evaluator journals itself. */
    static Behavior<PipelineMessage> journaled(Behavior<PipelineMessage> driver, Settings settings) {
        return Journaling.wrap(driver, settings.journal(), EVALUATOR,
                message -> message instanceof Rejected ? null : message);
    }

    @Override
    public Receive<PipelineMessage> createReceive() {
        return newReceiveBuilder()
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

    private Behavior<PipelineMessage> onStarted(TttStarted started) {
        this.started = started;
        tally.started(started);
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
        tally.scored(receipt);
        if (receipt.lastChunk()) {
            return finish();
        }
        evaluator.tell(new TttEvaluatorActor.Request(new TrainOnChunk(receipt), getContext().getSelf().narrow()));
        return this;
    }

    private Behavior<PipelineMessage> onTrained(ChunkTrained trained) {
        tally.trained(trained);
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

    private Behavior<PipelineMessage> finish() {
        listener.tell(tally.finished());
        return Behaviors.stopped();
    }
}
