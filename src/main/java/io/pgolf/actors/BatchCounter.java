package io.pgolf.actors;

import io.pgolf.protocol.BatchDemand;
import io.pgolf.protocol.TrainBatch;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.concurrent.CompletableFuture;

/**
 * A consumer that pulls {@code total} batches from a {@link DataLoaderActor}, keeping at most {@code window} demanded
 * and not yet received, and completes {@code done} with what it got. It stands where a Trainer will: the same demand
 * protocol, without the model.
 */
public final class BatchCounter {
    /** What the counter received. */
    public record Count(long batches, long tokens) {
    }

    private BatchCounter() {
    }

    public static Behavior<TrainBatch> create(ActorRef<DataLoaderActor.Command> loader, int total, int window,
                                              CompletableFuture<Count> done) {
        return Behaviors.setup(context -> {
            int first = Math.min(window, total);
            loader.tell(new DataLoaderActor.Subscribe(context.getSelf()));
            loader.tell(new DataLoaderActor.Demand(new BatchDemand(first)));
            return counting(loader, total, done, first, 0, 0);
        });
    }

    private static Behavior<TrainBatch> counting(ActorRef<DataLoaderActor.Command> loader, int total,
                                                 CompletableFuture<Count> done, long requested, long received, long tokens) {
        return Behaviors.receiveMessage(batch -> {
            if (batch.index() != received) {
                done.completeExceptionally(new IllegalStateException("batch " + batch.index() + " arrived, expected " + received));
                return Behaviors.stopped();
            }
            long count = received + 1;
            long sum = tokens + (long) batch.rows() * batch.seqLen();
            if (count == total) {
                done.complete(new Count(count, sum));
                return Behaviors.stopped();
            }
            long nowRequested = requested;
            if (requested < total) {
                loader.tell(new DataLoaderActor.Demand(new BatchDemand(1)));
                nowRequested++;
            }
            return counting(loader, total, done, nowRequested, count, sum);
        });
    }
}
