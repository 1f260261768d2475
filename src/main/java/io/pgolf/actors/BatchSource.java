package io.pgolf.actors;

import io.pgolf.data.loader.MicroBatchShape;
import io.pgolf.data.loader.TrainBatchLoader;
import org.apache.pekko.actor.typed.Behavior;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where a Trainer's or a Quantizer's micro-batches come from: an actor that speaks {@link DataLoaderActor}'s protocol
 * (Subscribe, Demand, Reset), made for a rank and a batch shape. A run's is a DataLoader over the training shards; a
 * replay's serves the batches its journal recorded ({@link RecordedBatches}).
 */
@FunctionalInterface
public interface BatchSource {
    Behavior<DataLoaderActor.Command> open(int rank, MicroBatchShape shape) throws IOException;

    /** A {@link DataLoaderActor} over the rank's training shards in {@code dataset}. */
    static BatchSource shards(Path dataset) {
        return (rank, shape) -> DataLoaderActor.create(TrainBatchLoader.open(dataset, rank, shape));
    }
}
