package io.pgolf.deploy;

import io.pgolf.actors.BatchSource;
import io.pgolf.actors.RecordedBatches;
import io.pgolf.actors.TttDriver;
import io.pgolf.actors.TttReplayDriver;
import io.pgolf.model.train.TrainingClock;
import io.pgolf.protocol.TrainBatch;
import io.pgolf.protocol.TrainerProgress;
import io.pgolf.protocol.TttFinished;
import io.pgolf.protocol.TttRequest;
import io.pgolf.protocol.TttStarted;
import org.apache.pekko.actor.typed.Behavior;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A replay's {@link RunSources}: what the recorded actors received, taken from their journal. The Trainer's and the
 * Quantizer's batches in the order they received them, the Trainer's clock readings (each training step's
 * {@code trainSeconds}), and the TTT evaluator's requests with its evaluation id.
 */
final class RecordedSources implements RunSources {
    private final RecordedRun run;
    private final Consumer<String> log;

    RecordedSources(RecordedRun run, Consumer<String> log) {
        this.run = run;
        this.log = log;
    }

    @Override
    public BatchSource trainingBatches(Path dataset) {
        return batches(RunStages.TRAIN, "Trainer");
    }

    @Override
    public TrainingClock trainingClock() {
        return TrainingClock.replaying(run.messages(RunStages.TRAIN, TrainerProgress.class).stream()
                .filter(progress -> !progress.warmup()).map(TrainerProgress::trainSeconds).toList());
    }

    @Override
    public BatchSource calibrationBatches(Path dataset) {
        return batches(RunStages.QUANTIZE, "Quantizer");
    }

    @Override
    public Behavior<Void> tttStage(TttDriver.Settings settings, CompletableFuture<TttFinished> finished) {
        List<TttStarted> started = run.messages(EvaluationStages.TTT, TttStarted.class);
        if (started.size() != 1) {
            throw new IllegalArgumentException(run.file() + " records " + started.size() + " TTT evaluations"
                    + " (TttStarted) in stage " + EvaluationStages.TTT + "; a replay re-drives exactly one");
        }
        List<TttRequest> requests = run.messages(EvaluationStages.TTT, TttRequest.class);
        log.accept(String.format(Locale.ROOT, "replay %s: %d recorded requests to a fresh TTT evaluator (evaluation"
                + " %s)", EvaluationStages.TTT, requests.size(), started.getFirst().evaluationId()));
        return TttReplayDriver.stage(settings, started.getFirst().evaluationId(), requests, finished);
    }

    /** The batches {@code stage}'s consumer received, checked against the shape the configuration makes. */
    private BatchSource batches(String stage, String consumer) {
        return (rank, shape) -> {
            List<TrainBatch> batches = run.messages(stage, TrainBatch.class);
            if (batches.isEmpty()) {
                throw new IllegalArgumentException(run.file() + " records no batch that the " + consumer + " of stage "
                        + stage + " received");
            }
            for (TrainBatch batch : batches) {
                if (batch.rank() != rank || batch.rows() != shape.rows() || batch.seqLen() != shape.seqLen()) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: stage %s recorded a batch of"
                                    + " rank %d, %d x %d tokens, but the configuration makes rank %d's %d x %d",
                            run.file(), stage, batch.rank(), batch.rows(), batch.seqLen(), rank, shape.rows(),
                            shape.seqLen()));
                }
            }
            log.accept(String.format(Locale.ROOT, "replay %s: %d recorded batches to a fresh %s", stage,
                    batches.size(), consumer));
            return RecordedBatches.create(batches);
        };
    }
}
