package io.pgolf.actors;

import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.StageFinished;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Runs a job's stages one after the other under one guardian actor. Each stage is a child of the guardian, named
 * after the stage: a supervisor that completes the stage's outcome and then stops. When it has stopped with an
 * outcome, the guardian journals {@link StageFinished} and starts the next stage; a supervisor that fails, completes
 * its outcome exceptionally or stops without one ends the run with a {@link StageFailedException} naming the stage.
 */
public final class RunPipeline {
    /**
     * A stage. Its supervisor is made only when the stage starts, on the stage's own thread, so it may use what
     * earlier stages produced and may block while it loads what it needs; a factory that throws fails the stage.
     */
    public record Stage<T>(String name, Supervisor<T> supervisor, CompletableFuture<T> outcome) {
        public static <T> Stage<T> of(String name, Supervisor<T> supervisor) {
            return new Stage<>(name, supervisor, new CompletableFuture<>());
        }

        /** A stage that is one blocking call: its supervisor makes the call when it starts, then stops. */
        public static <T> Stage<T> task(String name, Task<T> task) {
            return of(name, outcome -> Behaviors.setup(context -> {
                try {
                    outcome.complete(task.run(context.getSystem()));
                } catch (Exception e) {
                    outcome.completeExceptionally(e);
                }
                return Behaviors.stopped();
            }));
        }

        /** The stage's outcome; only once the stage has finished. */
        public T result() {
            if (!outcome.isDone() || outcome.isCompletedExceptionally()) {
                throw new IllegalStateException("stage " + name + " has not finished");
            }
            return outcome.join();
        }
    }

    /** Makes a stage's supervisor. */
    @FunctionalInterface
    public interface Supervisor<T> {
        /** @param outcome what the supervisor completes, normally or exceptionally, before it stops */
        Behavior<?> start(CompletableFuture<T> outcome) throws Exception;
    }

    /** The body of a task stage. */
    @FunctionalInterface
    public interface Task<T> {
        /** @param system the run's actor system, for a task that runs actors of its own */
        T run(ActorSystem<?> system) throws Exception;
    }

    private RunPipeline() {
    }

    /**
     * Runs every stage in order and returns how long each took.
     *
     * @param settings actor-system settings by path (as {@link PipelineSystem#create})
     * @throws StageFailedException naming the first stage that failed; later stages did not start
     */
    public static List<StageFinished> run(List<Stage<?>> stages, MessageJournal journal, Map<String, Object> settings,
                                          Consumer<String> log) throws InterruptedException {
        return PipelineSystem.runUntilDone(outcome -> Behaviors.<Void>setup(context ->
                new Sequencer(context, List.copyOf(stages), journal, log, outcome).startNext()), "run", settings, log);
    }

    /** The guardian: one stage at a time, each watched until it stops. */
    private static final class Sequencer extends AbstractBehavior<Void> {
        private final List<Stage<?>> stages;
        private final MessageJournal journal;
        private final Consumer<String> log;
        private final CompletableFuture<List<StageFinished>> finished;
        private final List<StageFinished> done = new ArrayList<>();
        private long startNanos;

        Sequencer(ActorContext<Void> context, List<Stage<?>> stages, MessageJournal journal, Consumer<String> log,
                  CompletableFuture<List<StageFinished>> finished) {
            super(context);
            this.stages = stages;
            this.journal = journal;
            this.log = log;
            this.finished = finished;
        }

        @Override
        public Receive<Void> createReceive() {
            return newReceiveBuilder()
                    .onSignal(ChildFailed.class, failed -> fail(failed.cause()))
                    .onSignal(Terminated.class, this::onStageStopped)
                    .build();
        }

        /** Supervisors may block while they set up, so they run on the blocking dispatcher. */
        Behavior<Void> startNext() {
            if (done.size() == stages.size()) {
                finished.complete(List.copyOf(done));
                return Behaviors.stopped();
            }
            Stage<?> stage = stages.get(done.size());
            startNanos = System.nanoTime();
            getContext().watch(getContext().spawn(started(stage), stage.name(), DispatcherSelector.blocking()));
            return this;
        }

        /** The stage's supervisor, made once the stage's actor runs; the cast only names the type it already has. */
        @SuppressWarnings("unchecked")
        private static <T, U> Behavior<U> started(Stage<T> stage) {
            return Behaviors.setup(context -> {
                try {
                    return (Behavior<U>) stage.supervisor().start(stage.outcome());
                } catch (Exception e) {
                    stage.outcome().completeExceptionally(e);
                    return Behaviors.stopped();
                }
            });
        }

        private Behavior<Void> onStageStopped(Terminated stopped) {
            Stage<?> stage = stages.get(done.size());
            CompletableFuture<?> outcome = stage.outcome();
            if (!outcome.isDone()) {
                return fail(new IllegalStateException("stopped without an outcome"));
            }
            if (outcome.isCompletedExceptionally()) {
                return fail(outcome.exceptionNow());
            }
            StageFinished stageFinished = new StageFinished(stage.name(), (System.nanoTime() - startNanos) / 1e9);
            try {
                journal.append(stage.name(), getContext().getSelf().path().toStringWithoutAddress(), stageFinished);
            } catch (IOException e) {
                return fail(e);
            }
            done.add(stageFinished);
            log.accept(String.format(Locale.ROOT, "stage %s finished in %.1f s", stage.name(),
                    stageFinished.seconds()));
            return startNext();
        }

        private Behavior<Void> fail(Throwable cause) {
            finished.completeExceptionally(new StageFailedException(stages.get(done.size()).name(), cause));
            return Behaviors.stopped();
        }
    }
}
