package io.pgolf.actors;

import io.pgolf.protocol.TrainerEvent;
import io.pgolf.protocol.TrainerProgress;
import io.pgolf.protocol.TrainingFinished;
import io.pgolf.protocol.ValidationReport;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Turns a Trainer's events into log lines with rate and ETA, and completes {@code finished} with its last event.
 * Progress lines appear for the first steps, every {@code logEvery} steps and the last; validations always.
 */
public final class TrainingMonitor {
    private TrainingMonitor() {
    }

    /**
     * @param iterations    the step limit
     * @param budgetSeconds the training time budget, or 0 when the run is scheduled by steps
     */
    public static Behavior<TrainerEvent> create(Consumer<String> log, int iterations, double budgetSeconds, int logEvery,
                                                CompletableFuture<TrainingFinished> finished) {
        return Behaviors.receiveMessage(event -> switch (event) {
            case TrainerProgress p -> {
                if (p.warmup() || p.step() <= 5 || (logEvery > 0 && p.step() % logEvery == 0) || p.step() == iterations) {
                    log.accept(progressLine(p, iterations, budgetSeconds));
                }
                yield Behaviors.same();
            }
            case ValidationReport v -> {
                log.accept(String.format(Locale.ROOT, "step %d/%d%s val_loss %.4f val_bpb %.4f (%,d tokens, %.1f s)",
                        v.step(), iterations, v.emaWeights() ? " post-ema" : "", v.valLoss(), v.valBpb(), v.tokens(),
                        v.seconds()));
                yield Behaviors.same();
            }
            case TrainingFinished f -> {
                log.accept(String.format(Locale.ROOT, "training finished after %d steps (%s), %.1f s, %,d tokens; weights %s",
                        f.steps(), f.stopReason(), f.trainSeconds(), f.tokensSeen(), f.weightsFile()));
                finished.complete(f);
                yield Behaviors.stopped();
            }
        });
    }

    static String progressLine(TrainerProgress p, int iterations, double budgetSeconds) {
        if (p.warmup()) {
            return String.format(Locale.ROOT, "warmup step %d%s train_loss %.4f tok/s %,.0f", p.step(),
                    p.looping() ? " (loop on)" : "", p.trainLoss(), p.tokensPerSecond());
        }
        double perStep = p.trainSeconds() / p.step();
        double remaining = (iterations - p.step()) * perStep;
        if (budgetSeconds > 0) {
            remaining = Math.min(remaining, Math.max(0, budgetSeconds - p.trainSeconds()));
        }
        return String.format(Locale.ROOT, "step %d/%d train_loss %.4f tok/s %,.0f lr_mul %.3f loop %s train_time %s ETA %s",
                p.step(), iterations, p.trainLoss(), p.tokensPerSecond(), p.lrMultiplier(), p.looping() ? "on" : "off",
                clock(p.trainSeconds()), clock(remaining));
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
