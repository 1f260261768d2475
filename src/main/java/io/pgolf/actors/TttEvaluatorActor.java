package io.pgolf.actors;

import io.pgolf.model.eval.ChunkTraining;
import io.pgolf.model.eval.ScoreFirstTtt;
import io.pgolf.model.eval.ScoreReceipt;
import io.pgolf.model.eval.SlidingWindows;
import io.pgolf.model.eval.TttPlan;
import io.pgolf.protocol.ChunkScored;
import io.pgolf.protocol.ChunkTrained;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.Rejected;
import io.pgolf.protocol.RunKind;
import io.pgolf.protocol.ScoreChunk;
import io.pgolf.protocol.ScoredWindow;
import io.pgolf.protocol.TrainOnChunk;
import io.pgolf.protocol.TttEvent;
import io.pgolf.protocol.TttRequest;
import io.pgolf.protocol.TttStarted;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Legal score-first TTT as an actor: it owns a {@link ScoreFirstTtt} and runs its steps when asked, one chunk at a
 * time, in the order its state machine allows:
 *
 * <pre>
 *   awaiting score of chunk c ──ScoreChunk(c)──▶ ChunkScored(c) receipt ──▶ awaiting training of c
 *   awaiting training of c ──TrainOnChunk(that very receipt)──▶ ChunkTrained(c) ──▶ awaiting score of the next chunk
 *   the last chunk's receipt ──▶ finished (the last chunk is never trained on)
 * </pre>
 *
 * Any other request (another chunk, a repeat, a receipt it did not issue, another evaluation's id) changes nothing:
 * the actor answers {@link Rejected} and journals the rejection itself, so it is on record even when the asker
 * journals nothing. Every request it receives is journaled before it is handled, with the asker's path as sender.
 *
 * <p>On start it tells its owner {@link TttStarted}: the evaluation id that every request must carry (a fresh random
 * one for each evaluation; a replay gives the one it re-drives), the plan, and the weights version it starts from (0: weights that never trained on a validation token). Each training
 * makes a new version. Scoring and training take seconds of blocking compute: spawn it on a dispatcher of its own.
 */
public final class TttEvaluatorActor {
    /** A request and where its answer goes. */
    public record Request(TttRequest message, ActorRef<TttEvent> replyTo) {
        public Request {
            Objects.requireNonNull(message, "message");
            Objects.requireNonNull(replyTo, "replyTo");
        }
    }

    private final ActorContext<Request> context;
    private final ScoreFirstTtt engine;
    private final MessageJournal journal;
    private final String evaluationId;
    private final List<Integer> chunks;
    private long weightsVersion;

    private TttEvaluatorActor(ActorContext<Request> context, ScoreFirstTtt engine, MessageJournal journal,
                              long weightsVersion, String evaluationId) {
        this.context = context;
        this.engine = engine;
        this.journal = journal;
        this.evaluationId = evaluationId;
        this.chunks = engine.plan().scoredChunks();
        this.weightsVersion = weightsVersion;
    }

    /**
     * The actor owns {@code engine} and closes it when it stops.
     *
     * @param runKind        {@link RunKind#RECORD} only for weights that never trained on a validation token
     * @param weightsVersion the version of the weights the engine's model holds now
     * @param evaluationId   the evaluation's id, which every request must carry
     * @param owner          receives {@link TttStarted}
     */
    public static Behavior<Request> create(ScoreFirstTtt engine, RunKind runKind, long weightsVersion,
                                           String evaluationId, ActorRef<TttEvent> owner, MessageJournal journal) {
        if (runKind == RunKind.RECORD && weightsVersion != 0) {
            throw new IllegalArgumentException("a record evaluation starts from weights that never trained on a"
                    + " validation token (version 0), not version " + weightsVersion);
        }
        Behavior<Request> machine = Behaviors.setup(context -> {
            TttEvaluatorActor actor = new TttEvaluatorActor(context, engine, journal, weightsVersion,
                    Objects.requireNonNull(evaluationId, "evaluationId"));
            owner.tell(actor.started(runKind));
            return actor.awaitingScore(0);
        });
        return Journaling.wrap(machine, journal, request -> pathOf(request.replyTo()), Request::message);
    }

    private TttStarted started(RunKind runKind) {
        TttPlan plan = engine.plan();
        SlidingWindows windows = plan.windows();
        return new TttStarted(evaluationId, runKind, windows.targets() + 1, engine.vocabSize(), windows.seqLen(),
                windows.stride(), plan.chunkTokens(), plan.chunkCount(), chunks, weightsVersion);
    }

    /** Waits for ScoreChunk of {@code chunks.get(next)}. */
    private Behavior<Request> awaitingScore(int next) {
        if (next == chunks.size()) {
            return finished();
        }
        int expected = chunks.get(next);
        return state(request -> switch (request.message()) {
            case ScoreChunk score when score.chunk() == expected -> score(request.replyTo(), next);
            case ScoreChunk score -> reject(request, chunks.subList(0, next).contains(score.chunk())
                    ? "chunk " + score.chunk() + " is already scored"
                    : "chunk " + score.chunk() + " is out of order: the next chunk to score is " + expected);
            case TrainOnChunk train -> reject(request, chunks.subList(0, next).contains(train.chunk())
                    ? "chunk " + train.chunk() + " is already trained on"
                    : "chunk " + train.chunk() + " is not scored yet; no scored chunk awaits training");
        });
    }

    /** Waits for a TrainOnChunk holding exactly {@code issued}, the receipt of {@code chunks.get(next - 1)}. */
    private Behavior<Request> awaitingTraining(ChunkScored issued, ScoreReceipt engineReceipt, int next) {
        int chunk = issued.chunk();
        return state(request -> switch (request.message()) {
            case ScoreChunk score -> reject(request, "chunk " + chunk + " is scored but not trained on; train on it"
                    + " before scoring chunk " + score.chunk());
            case TrainOnChunk train when train.receipt().equals(issued) ->
                    train(request.replyTo(), engineReceipt, next);
            case TrainOnChunk train when train.chunk() == chunk -> reject(request, "the receipt for chunk " + chunk
                    + " is not the one this evaluator issued");
            case TrainOnChunk train -> reject(request, chunks.subList(0, next - 1).contains(train.chunk())
                    ? "chunk " + train.chunk() + " is already trained on"
                    : "receipt is for chunk " + train.chunk() + ", but the chunk awaiting training is " + chunk);
        });
    }

    private Behavior<Request> finished() {
        return state(request -> reject(request, "the evaluation is over: every chunk is scored"));
    }

    /** A state: requests for another evaluation are rejected before {@code handle} sees them. */
    private Behavior<Request> state(Function<Request, Behavior<Request>> handle) {
        return Behaviors.receive(Request.class)
                .onMessage(Request.class, request -> request.message().evaluationId().equals(evaluationId)
                        ? handle.apply(request)
                        : reject(request, "request for evaluation " + request.message().evaluationId()
                        + ", this evaluator runs " + evaluationId))
                .onSignal(PostStop.class, signal -> {
                    engine.close();
                    return Behaviors.same();
                })
                .build();
    }

    private Behavior<Request> score(ActorRef<TttEvent> replyTo, int next) {
        int chunk = chunks.get(next);
        ScoreReceipt receipt = engine.score(chunk);
        ChunkScored issued = new ChunkScored(evaluationId, chunk, engine.plan().isLast(chunk), weightsVersion,
                engine.scoringMethod(), windowsOf(receipt), receipt.totals().nats(), receipt.totals().tokens(),
                receipt.totals().bytes());
        replyTo.tell(issued);
        return issued.lastChunk() ? finished() : awaitingTraining(issued, receipt, next + 1);
    }

    private Behavior<Request> train(ActorRef<TttEvent> replyTo, ScoreReceipt receipt, int next) {
        ChunkTraining training = engine.train(receipt);
        long fromVersion = weightsVersion;
        weightsVersion++;
        replyTo.tell(new ChunkTrained(evaluationId, training.chunk(), fromVersion, weightsVersion,
                training.tokensRead(), training.epochs(), training.optimizerSteps(), training.learningRate(),
                training.meanLoss()));
        return awaitingScore(next);
    }

    /** The receipt's windows in token indices: window start s reads tokens from s and predicts tokens from s + 1. */
    private List<ScoredWindow> windowsOf(ScoreReceipt receipt) {
        SlidingWindows windows = engine.plan().windows();
        return receipt.windowStarts().stream().map(start -> {
            int end = start + windows.length(start);
            return new ScoredWindow(start, end, start + windows.firstScored(start) + 1, end + 1);
        }).toList();
    }

    private Behavior<Request> reject(Request request, String reason) {
        Rejected rejected = new Rejected(evaluationId, request.message(), reason);
        String self = pathOf(context.getSelf());
        try {
            journal.append(self, pathOf(request.replyTo()), rejected);
        } catch (IOException e) {
            throw new UncheckedIOException(self + " could not journal a rejection to " + journal.file(), e);
        }
        request.replyTo().tell(rejected);
        return Behaviors.same();
    }

    private static String pathOf(ActorRef<?> ref) {
        return ref.path().toStringWithoutAddress();
    }
}
