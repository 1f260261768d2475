package io.pgolf.actors;

import io.pgolf.model.eval.PlainEvaluation;
import io.pgolf.model.train.TrainerSettings;
import io.pgolf.model.train.TrainingClock;
import io.pgolf.model.train.TrainingEngine;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.TrainerEvent;
import io.pgolf.protocol.TrainingFinished;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Runs one rank's training as actors: DataLoader -> Trainer -> monitor, under a supervisor that ends the run with
 * the Trainer's failure if it fails. Every batch the Trainer receives and every TrainerEvent the monitor receives is
 * journaled.
 */
public final class TrainingPipeline {
    private static final String TRAINER_DISPATCHER = "pgolf.dispatchers.trainer";

    /**
     * Everything the run needs; the pipeline takes ownership of the engine and closes it.
     *
     * @param batches  the Trainer's DataLoader, an actor the pipeline spawns (and that owns what it reads)
     * @param logEvery progress lines every this many steps (besides the first five and the last)
     */
    public record Settings(Behavior<DataLoaderActor.Command> batches, TrainingEngine engine, TrainerSettings trainer,
                           TrainingClock clock, Optional<PlainEvaluation> validation, MessageJournal journal,
                           Consumer<String> log, int logEvery) {
    }

    private TrainingPipeline() {
    }

    /** Trains to the end and returns the Trainer's last event; a failure of any actor fails the run. */
    public static TrainingFinished run(Settings settings) throws InterruptedException {
        return PipelineSystem.runUntilDone(outcome -> supervisor(settings, outcome), "train", Map.of(), settings.log());
    }

    /**
     * The training as a stage of a run: DataLoader, Trainer and a monitor that journals the Trainer's events; the
     * supervisor completes {@code finished} with the Trainer's last event, or with the failure of any of them, and
     * stops.
     */
    public static Behavior<Void> supervisor(Settings s, CompletableFuture<TrainingFinished> finished) {
        return Behaviors.setup(context -> {
            ActorRef<DataLoaderActor.Command> loader = context.spawn(s.batches(), "data-loader-" + s.trainer().rank(),
                    DispatcherSelector.blocking());
            double budget = s.trainer().schedule().wallClockBudgeted() ? s.trainer().schedule().trainingBudgetSeconds() : 0;
            ActorRef<TrainerEvent> monitor = context.spawn(Journaling.wrap(
                    TrainingMonitor.create(s.log(), s.trainer().iterations(), budget, s.logEvery(), finished),
                    s.journal(), "trainer-" + s.trainer().rank()), "monitor");
            ActorRef<TrainerActor.Command> trainer = context.spawn(
                    TrainerActor.create(s.engine(), s.trainer(), s.clock(), loader, s.validation(), monitor,
                            s.journal()),
                    "trainer-" + s.trainer().rank(), DispatcherSelector.fromConfig(TRAINER_DISPATCHER));
            context.watch(loader);
            context.watch(trainer);
            context.watch(monitor);
            return Behaviors.receive(Void.class)
                    .onSignal(ChildFailed.class, failed -> {
                        finished.completeExceptionally(PipelineSystem.failureOf(failed));
                        return Behaviors.stopped();
                    })
                    .onSignal(Terminated.class, stopped -> {
                        if (stopped.getRef().equals(monitor) && !finished.isDone()) {
                            finished.completeExceptionally(new IllegalStateException("the training monitor stopped early"));
                        }
                        return finished.isDone() ? Behaviors.stopped() : Behaviors.same();
                    })
                    .build();
        });
    }
}
