package io.pgolf.actors;

import io.pgolf.protocol.TttFinished;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one TTT evaluation as actors: a {@link TttDriver} (and the evaluator, and pre-quant TTT if configured, that
 * it spawns) and a listener that journals the final {@link TttFinished}, under a guardian that ends the run with the
 * driver's failure if it fails.
 */
public final class TttPipeline {
    private static final String COMPUTE_DISPATCHER = "pgolf.dispatchers.trainer";

    private TttPipeline() {
    }

    /** Evaluates to the end and returns the final event; a failure of any actor fails the run. */
    public static TttFinished run(TttDriver.Settings settings) throws InterruptedException {
        CompletableFuture<TttFinished> finished = new CompletableFuture<>();
        ActorSystem<Void> system = PipelineSystem.create(guardian(settings, finished), "ttt", Map.of());
        try {
            return finished.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause.getMessage(), cause);
        } finally {
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get(1, TimeUnit.MINUTES);
            } catch (ExecutionException | TimeoutException e) {
                settings.log().accept("actor system did not shut down cleanly: " + e);
            }
        }
    }

    private static Behavior<Void> guardian(TttDriver.Settings settings, CompletableFuture<TttFinished> finished) {
        return Behaviors.setup(context -> {
            ActorRef<TttFinished> listener = context.spawn(Journaling.wrap(
                    Behaviors.receive(TttFinished.class).onMessage(TttFinished.class, event -> {
                        finished.complete(event);
                        return Behaviors.stopped();
                    }).build(), settings.journal(), "ttt-driver"), "ttt-listener");
            ActorRef<?> driver = context.spawn(TttDriver.create(settings,
                    DispatcherSelector.fromConfig(COMPUTE_DISPATCHER), listener), "ttt-driver");
            context.watch(driver);
            context.watch(listener);
            return Behaviors.receive(Void.class)
                    .onSignal(ChildFailed.class, failed -> {
                        finished.completeExceptionally(new IllegalStateException(
                                failed.getRef().path().name() + " failed: " + failed.cause().getMessage(),
                                failed.cause()));
                        return Behaviors.stopped();
                    })
                    // The driver stops right after telling the listener, which stops once it has the result.
                    .onSignal(Terminated.class, stopped -> {
                        if (stopped.getRef().equals(listener) && !finished.isDone()) {
                            finished.completeExceptionally(new IllegalStateException(
                                    "the TTT listener stopped before the evaluation finished"));
                        }
                        return finished.isDone() ? Behaviors.stopped() : Behaviors.same();
                    })
                    .build();
        });
    }
}
