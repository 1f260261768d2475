package io.pgolf.deploy;

import io.pgolf.actors.BatchSource;
import io.pgolf.actors.TttDriver;
import io.pgolf.actors.TttPipeline;
import io.pgolf.model.train.TrainingClock;
import io.pgolf.protocol.TttFinished;
import org.apache.pekko.actor.typed.Behavior;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * What a run's stages take from outside their configuration and data files: the Trainer's and the Quantizer's
 * micro-batches, the Trainer's clock, and the TTT evaluator's requests (with its evaluation id). A run takes them from
 * the training shards, the wall clock and a {@link TttDriver} ({@link #live()}); a replay from the journal it
 * re-drives ({@link RecordedSources}).
 */
interface RunSources {
    /** @param dataset the run's shard folder */
    BatchSource trainingBatches(Path dataset);

    TrainingClock trainingClock();

    /** @param dataset the run's shard folder */
    BatchSource calibrationBatches(Path dataset);

    /** The TTT evaluation's stage supervisor. */
    Behavior<Void> tttStage(TttDriver.Settings settings, CompletableFuture<TttFinished> finished);

    /** Shards, wall clock, a driver: what a run reads. */
    static RunSources live() {
        return new RunSources() {
            @Override
            public BatchSource trainingBatches(Path dataset) {
                return BatchSource.shards(dataset);
            }

            @Override
            public TrainingClock trainingClock() {
                return TrainingClock.wall();
            }

            @Override
            public BatchSource calibrationBatches(Path dataset) {
                return BatchSource.shards(dataset);
            }

            @Override
            public Behavior<Void> tttStage(TttDriver.Settings settings, CompletableFuture<TttFinished> finished) {
                return TttPipeline.supervisor(settings, finished);
            }
        };
    }
}
