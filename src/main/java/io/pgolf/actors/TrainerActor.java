package io.pgolf.actors;

import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.model.eval.GptScorer;
import io.pgolf.model.eval.PlainEvaluation;
import io.pgolf.model.optim.ExponentialMovingAverage;
import io.pgolf.model.train.TrainerSettings;
import io.pgolf.model.train.TrainingClock;
import io.pgolf.model.train.TrainingEngine;
import io.pgolf.protocol.BatchDemand;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.TrainBatch;
import io.pgolf.protocol.TrainerEvent;
import io.pgolf.protocol.TrainerProgress;
import io.pgolf.protocol.TrainingFinished;
import io.pgolf.protocol.ValidationReport;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.Optional;

/**
 * One rank's Trainer: pulls micro-batches from its DataLoader by demand, runs the steps on its backend, and tells
 * its listener a {@link TrainerProgress} per step, a {@link ValidationReport} per validation and finally a
 * {@link TrainingFinished}. It follows the reference's {@code train_model}: WARMUP_STEPS steps (and as many again
 * with the depth loop on) to warm up, then the initial weights, optimizer state and loader position are restored;
 * then steps until ITERATIONS or the time budget, switching the loop on at ENABLE_LOOPING_AT, keeping an EMA of
 * the weights that replaces them at the end, validating at step 0, every VAL_LOSS_EVERY steps, after the last step
 * and once more with the EMA weights. Its {@link TrainingClock} is read once per step; a step's schedule follows the
 * reading at the end of the step before it.
 *
 * <p>Every batch it receives is journaled (as sent by its DataLoader), the ones it drops while its loader resets
 * too: with the clock's readings, they are all a replay needs to train again bit for bit.
 *
 * <p>A step takes seconds of blocking compute, so spawn the actor on a dispatcher of its own (its backend may also
 * need one thread, as a CUDA context does).
 */
public final class TrainerActor extends AbstractBehavior<TrainerActor.Command> {
    /** What the actor receives: batches from its loader and the loader's reset acknowledgement. */
    public sealed interface Command permits BatchArrived, LoaderReset {
    }

    record BatchArrived(TrainBatch batch) implements Command {
    }

    record LoaderReset(DataLoaderActor.ResetDone done) implements Command {
    }

    private enum Phase { WARMUP, LOOP_WARMUP, RESETTING, TRAINING }

    private final TrainingEngine engine;
    private final TrainerSettings settings;
    private final TrainingClock clock;
    private final ActorRef<DataLoaderActor.Command> loader;
    private final Optional<PlainEvaluation> validation;
    private final ActorRef<TrainerEvent> listener;
    private final ActorRef<DataLoaderActor.ResetDone> resetReplies;

    private Phase phase;
    private int warmupStep;
    private int step;
    private int stopAfterStep = -1;
    private long tokensSeen;
    private double stepLrMultiplier;
    /** The clock's reading at the end of the last training step (0 before the first). */
    private double trainSeconds;
    private long stepStart;
    private ExponentialMovingAverage ema;

    private TrainerActor(ActorContext<Command> context, TrainingEngine engine, TrainerSettings settings,
                         TrainingClock clock, ActorRef<DataLoaderActor.Command> loader,
                         Optional<PlainEvaluation> validation, ActorRef<TrainerEvent> listener) {
        super(context);
        this.engine = engine;
        this.settings = settings;
        this.clock = clock;
        this.loader = loader;
        this.validation = validation;
        this.listener = listener;
        this.resetReplies = context.messageAdapter(DataLoaderActor.ResetDone.class, LoaderReset::new);
        loader.tell(new DataLoaderActor.Subscribe(context.messageAdapter(TrainBatch.class, BatchArrived::new)));
        if (settings.warmupSteps() > 0) {
            engine.rememberInitialWeights();
            phase = Phase.WARMUP;
            stepStart = System.nanoTime();
        } else {
            beginTraining();
        }
        loader.tell(new DataLoaderActor.Demand(new BatchDemand(settings.prefetch())));
    }

    /**
     * The actor owns {@code engine} and closes it when it stops.
     *
     * @param journal receives every batch the actor gets from {@code loader}
     */
    public static Behavior<Command> create(TrainingEngine engine, TrainerSettings settings, TrainingClock clock,
                                           ActorRef<DataLoaderActor.Command> loader,
                                           Optional<PlainEvaluation> validation, ActorRef<TrainerEvent> listener,
                                           MessageJournal journal) {
        Behavior<Command> trainer = Behaviors.setup(context -> new TrainerActor(context, engine, settings, clock,
                loader, validation, listener));
        return Journaling.wrap(trainer, journal, loader.path().name(),
                command -> command instanceof BatchArrived arrived ? arrived.batch() : null);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(BatchArrived.class, this::onBatch)
                .onMessage(LoaderReset.class, this::onLoaderReset)
                .onSignal(PostStop.class, signal -> onStop())
                .build();
    }

    private Behavior<Command> onBatch(BatchArrived arrived) {
        if (phase == Phase.RESETTING) {
            // Sent before the loader's reset: the reference's fresh loader never yields these.
            return this;
        }
        if (phase == Phase.TRAINING && engine.accumulated() == 0) {
            beginStep();
        }
        engine.accumulate(arrived.batch());
        loader.tell(new DataLoaderActor.Demand(new BatchDemand(1)));
        if (!engine.stepReady()) {
            return this;
        }
        return phase == Phase.TRAINING ? finishTrainingStep() : finishWarmupStep();
    }

    private Behavior<Command> finishWarmupStep() {
        TrainingEngine.StepResult result = engine.step(warmupStep, 1.0);
        warmupStep++;
        double seconds = (System.nanoTime() - stepStart) / 1e9;
        listener.tell(new TrainerProgress(settings.rank(), true, warmupStep, result.trainLoss(),
                settings.tokensPerStep() / seconds, 1.0, settings.momentum().at(warmupStep - 1),
                engine.model().looping(), 0.0, settings.tokensPerStep() * (long) warmupStep));
        stepStart = System.nanoTime();
        if (warmupStep < settings.warmupSteps()) {
            return this;
        }
        warmupStep = 0;
        if (phase == Phase.WARMUP && settings.loopEnabled()) {
            phase = Phase.LOOP_WARMUP;
            engine.model().setLooping(true);
            return this;
        }
        engine.restoreInitialWeights();
        phase = Phase.RESETTING;
        loader.tell(new DataLoaderActor.Reset(resetReplies));
        return this;
    }

    private Behavior<Command> onLoaderReset(LoaderReset reset) {
        if (phase != Phase.RESETTING) {
            getContext().getLog().warn("rank {}: unexpected loader reset acknowledgement in phase {}", settings.rank(), phase);
            return this;
        }
        beginTraining();
        loader.tell(new DataLoaderActor.Demand(new BatchDemand(settings.prefetch())));
        return this;
    }

    private void beginTraining() {
        phase = Phase.TRAINING;
        ema = new ExponentialMovingAverage(engine.model().parameters(), settings.emaDecay());
        clock.start();
        if (settings.valLossEvery() > 0 && settings.iterations() > 0) {
            validate(false);
        }
    }

    private void beginStep() {
        double fraction = settings.schedule().trainingFraction(step, trainSeconds);
        stepLrMultiplier = settings.schedule().multiplier(fraction);
        if (settings.loopEnabled() && !engine.model().looping() && fraction >= settings.enableLoopingAt()) {
            engine.model().setLooping(true);
            getContext().getLog().info("rank {}: depth loop on at step {} (fraction {})", settings.rank(), step, fraction);
        }
        stepStart = System.nanoTime();
    }

    private Behavior<Command> finishTrainingStep() {
        TrainingEngine.StepResult result = engine.step(step, stepLrMultiplier);
        ema.update();
        step++;
        tokensSeen += settings.tokensPerStep();
        double stepSeconds = (System.nanoTime() - stepStart) / 1e9;
        trainSeconds = clock.stepEnded();
        listener.tell(new TrainerProgress(settings.rank(), false, step, result.trainLoss(),
                settings.tokensPerStep() / stepSeconds, stepLrMultiplier, settings.momentum().at(step - 1),
                engine.model().looping(), trainSeconds, tokensSeen));
        if (stopAfterStep < 0 && settings.schedule().budgetSpent(trainSeconds)) {
            stopAfterStep = step;
        }
        boolean last = step == settings.iterations() || (stopAfterStep >= 0 && step >= stopAfterStep);
        if (last) {
            return finish(stopAfterStep >= 0 && step < settings.iterations() ? "time budget" : "iterations");
        }
        if (settings.valLossEvery() > 0 && step % settings.valLossEvery() == 0) {
            validate(false);
        }
        return this;
    }

    private Behavior<Command> finish(String reason) {
        validate(false);
        ema.applyToWeights();
        validate(true);
        engine.model().parameters().saveTo(settings.weightsFile(), "", settings.weightsMetadata());
        listener.tell(new TrainingFinished(settings.rank(), step, trainSeconds, tokensSeen, reason,
                settings.weightsFile().toString()));
        return Behaviors.stopped();
    }

    /** Scores the validation tokens with the current weights; the time it takes is not training time. */
    private void validate(boolean emaWeights) {
        if (validation.isEmpty()) {
            return;
        }
        clock.pause();
        long start = System.nanoTime();
        BitsPerByte.Totals totals = validation.get().run(new GptScorer(engine.model()));
        listener.tell(new ValidationReport(step, emaWeights, totals.meanLoss(), totals.bitsPerByte(), totals.tokens(),
                totals.bytes(), (System.nanoTime() - start) / 1e9));
        clock.resume();
    }

    private Behavior<Command> onStop() {
        if (ema != null) {
            ema.close();
        }
        engine.close();
        return this;
    }
}
