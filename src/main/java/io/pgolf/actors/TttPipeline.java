package io.pgolf.actors;

import io.pgolf.protocol.TttFinished;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Runs one TTT evaluation as actors: a {@link TttDriver} (and the evaluator it spawns) and a listener that journals
 * the final {@link TttFinished}, under a supervisor that ends the run with the driver's failure if it fails; or, for a
 * replay, the same with a {@link TttReplayDriver} in the driver's place.
 */
public final class TttPipeline {
    static final String COMPUTE_DISPATCHER = "pgolf.dispatchers.trainer";
    static final String DRIVER = "ttt-driver";
    static final String LISTENER = "ttt-listener";

    private TttPipeline() {
    }

    /** Evaluates to the end and returns the final event; a failure of any actor fails the run. */
    public static TttFinished run(TttDriver.Settings settings) throws InterruptedException {
        return PipelineSystem.runUntilDone(outcome -> supervisor(settings, outcome), "ttt", Map.of(), settings.log());
    }

    /**
     * The evaluation as a stage of a run: the driver (which spawns the evaluator) and a listener that journals
     * {@link TttFinished} and completes {@code finished}; the supervisor then stops.
     */
    public static Behavior<Void> supervisor(TttDriver.Settings settings, CompletableFuture<TttFinished> finished) {
        return WorkerStage.supervisor(TttFinished.class, DRIVER, LISTENER,
                listener -> TttDriver.create(settings, DispatcherSelector.fromConfig(COMPUTE_DISPATCHER), listener),
                DispatcherSelector.defaultDispatcher(), settings.journal(), finished);
    }
}
