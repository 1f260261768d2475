package io.pgolf.actors;

import io.pgolf.protocol.ChunkScored;
import io.pgolf.protocol.ChunkTrained;
import io.pgolf.protocol.PipelineMessage;
import io.pgolf.protocol.Rejected;
import io.pgolf.protocol.TttFinished;
import io.pgolf.protocol.TttRequest;
import io.pgolf.protocol.TttStarted;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Re-drives a recorded TTT evaluation into a fresh {@link TttEvaluatorActor}: the evaluator gets the recorded
 * evaluation id (the one random input of an evaluation) and is sent the recorded requests, in order, each once the
 * previous one is answered. Nothing here builds a request: a {@code TrainOnChunk} carries the recorded receipt, which
 * the evaluator accepts only if it equals the receipt it issued itself, so a replay that scores differently is
 * answered {@link Rejected}, and goes on with the next request. The receipts are summed as {@link TttDriver} sums them
 * and the listener is told {@link TttFinished}; the driver journals what it receives as a live driver does.
 */
public final class TttReplayDriver extends AbstractBehavior<PipelineMessage> {
    private final ActorRef<TttFinished> listener;
    private final ActorRef<TttEvaluatorActor.Request> evaluator;
    private final List<TttRequest> requests;
    private final TttTally tally;
    private int next;

    private TttReplayDriver(ActorContext<PipelineMessage> context, TttDriver.Settings settings, String evaluationId,
                            List<TttRequest> requests, DispatcherSelector compute, ActorRef<TttFinished> listener) {
        super(context);
        this.listener = listener;
        this.requests = requests;
        this.tally = new TttTally(settings.log());
        this.evaluator = TttDriver.spawnEvaluator(context, settings, evaluationId, compute);
    }

    /**
     * @param evaluationId the recorded evaluation's id
     * @param requests     the requests the recorded evaluator received, in order
     * @param compute      the dispatcher for the evaluator's blocking compute
     */
    public static Behavior<PipelineMessage> create(TttDriver.Settings settings, String evaluationId,
                                                   List<TttRequest> requests, DispatcherSelector compute,
                                                   ActorRef<TttFinished> listener) {
        List<TttRequest> recorded = List.copyOf(requests);
        return TttDriver.journaled(Behaviors.setup(context -> new TttReplayDriver(context, settings, evaluationId,
                recorded, compute, listener)), settings);
    }

    /**
     * The re-driven evaluation as a stage of a replay, with the driver and the listener named as a run's
     * ({@link TttPipeline}), so that the replay's journal reads as the recording's.
     */
    public static Behavior<Void> stage(TttDriver.Settings settings, String evaluationId, List<TttRequest> requests,
                                       CompletableFuture<TttFinished> finished) {
        return WorkerStage.supervisor(TttFinished.class, TttPipeline.DRIVER, TttPipeline.LISTENER,
                listener -> create(settings, evaluationId, requests,
                        DispatcherSelector.fromConfig(TttPipeline.COMPUTE_DISPATCHER), listener),
                DispatcherSelector.defaultDispatcher(), settings.journal(), finished);
    }

    @Override
    public Receive<PipelineMessage> createReceive() {
        return newReceiveBuilder()
                .onMessage(TttStarted.class, started -> {
                    tally.started(started);
                    return sendNext();
                })
                .onMessage(ChunkScored.class, receipt -> {
                    tally.scored(receipt);
                    return sendNext();
                })
                .onMessage(ChunkTrained.class, trained -> {
                    tally.trained(trained);
                    return sendNext();
                })
                .onMessage(Rejected.class, rejected -> sendNext())
                .onSignal(ChildFailed.class, failed -> {
                    throw PipelineSystem.failureOf(failed);
                })
                .build();
    }

    private Behavior<PipelineMessage> sendNext() {
        if (next == requests.size()) {
            listener.tell(tally.finished());
            return Behaviors.stopped();
        }
        evaluator.tell(new TttEvaluatorActor.Request(requests.get(next++), getContext().getSelf().narrow()));
        return this;
    }
}
