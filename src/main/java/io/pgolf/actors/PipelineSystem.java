package io.pgolf.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

/** Creates the actor systems that pgolf's jobs run in, with pgolf's dispatcher and logging settings. */
public final class PipelineSystem {
    private PipelineSystem() {
    }

    /** @param settings extra settings by path (they win over pgolf-actors.conf and reference.conf) */
    public static <T> ActorSystem<T> create(Behavior<T> guardian, String name, Map<String, Object> settings) {
        Config config = ConfigFactory.parseMap(settings)
                .withFallback(ConfigFactory.parseResources("pgolf-actors.conf"))
                .withFallback(ConfigFactory.load())
                .resolve();
        return ActorSystem.create(guardian, name, config);
    }

    /**
     * Runs an actor system whose guardian completes {@code outcome}, waits for it, and shuts the system down.
     * A guardian that completes it exceptionally fails the call with that exception (unwrapped).
     *
     * @param guardian builds the guardian behavior from the future it must complete
     * @param log      where a failure to shut down is reported
     */
    public static <R, T> R runUntilDone(Function<CompletableFuture<R>, Behavior<T>> guardian, String name,
                                        Map<String, Object> settings, Consumer<String> log) throws InterruptedException {
        CompletableFuture<R> outcome = new CompletableFuture<>();
        ActorSystem<T> system = create(guardian.apply(outcome), name, settings);
        try {
            return outcome.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause.getMessage(), cause);
        } finally {
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get(1, TimeUnit.MINUTES);
            } catch (ExecutionException | TimeoutException e) {
                log.accept("actor system did not shut down cleanly: " + e);
            }
        }
    }

    /** The exception a supervisor fails its run with when a watched child fails: the child named, its cause kept. */
    public static IllegalStateException failureOf(ChildFailed failed) {
        return new IllegalStateException(failed.getRef().path().name() + " failed: " + failed.cause().getMessage(),
                failed.cause());
    }
}
