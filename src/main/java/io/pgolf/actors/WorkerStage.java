package io.pgolf.actors;

import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.PipelineMessage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The supervisor of a stage whose worker ends with one report: it spawns a listener and the worker, which tells the
 * listener its report; the listener journals it (as received from the worker) and completes the stage's outcome.
 * A failure of the worker or the listener, or a listener that stops without the report, completes the outcome
 * exceptionally instead. Either way the supervisor then stops.
 */
public final class WorkerStage {
    private WorkerStage() {
    }

    /**
     * @param workerName   the worker's actor name, and the sender the journal records for its report
     * @param listenerName the listener's actor name
     * @param worker       given the listener, the worker's behavior
     * @param dispatcher   where the worker runs
     */
    public static <T extends PipelineMessage> Behavior<Void> supervisor(
            Class<T> report, String workerName, String listenerName, Function<ActorRef<T>, Behavior<?>> worker,
            DispatcherSelector dispatcher, MessageJournal journal, CompletableFuture<T> outcome) {
        return Behaviors.setup(context -> {
            ActorRef<T> listener = context.spawn(Journaling.wrap(
                    Behaviors.receive(report).onMessage(report, message -> {
                        outcome.complete(message);
                        return Behaviors.stopped();
                    }).build(), journal, workerName), listenerName);
            ActorRef<?> spawned = context.spawn(worker.apply(listener), workerName, dispatcher);
            context.watch(spawned);
            context.watch(listener);
            return Behaviors.receive(Void.class)
                    .onSignal(ChildFailed.class, failed -> {
                        outcome.completeExceptionally(PipelineSystem.failureOf(failed));
                        return Behaviors.stopped();
                    })
                    // The worker may stop right after telling the listener, which stops once it has the report.
                    .onSignal(Terminated.class, stopped -> {
                        if (stopped.getRef().equals(listener) && !outcome.isDone()) {
                            outcome.completeExceptionally(new IllegalStateException(
                                    listenerName + " stopped before " + workerName + " reported"));
                        }
                        return outcome.isDone() ? Behaviors.stopped() : Behaviors.same();
                    })
                    .build();
        });
    }
}
