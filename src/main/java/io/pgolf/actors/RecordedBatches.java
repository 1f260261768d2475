package io.pgolf.actors;

import io.pgolf.protocol.TrainBatch;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.ArrayList;
import java.util.List;

/**
 * A DataLoader for a replay: it serves the micro-batches that a recorded Trainer or Quantizer received, in the order
 * it received them, through {@link DataLoaderActor}'s protocol. Batches go out on demand, as a DataLoader sends
 * them. A reset is where the recorded numbering starts again from a lower index: the recorded loader had sent the
 * batches before it and then reset, so on {@link DataLoaderActor.Reset} this actor sends the batches left before that
 * point (demanded or not, as the recorded consumer received them) and then acknowledges; until then it serves none
 * beyond it.
 */
public final class RecordedBatches extends AbstractBehavior<DataLoaderActor.Command> {
    private final List<TrainBatch> batches;
    /** Where the batches of each recorded reset sequence end: the positions at which the numbering restarts. */
    private final List<Integer> segmentEnds;
    private int segment;
    private int next;
    private long outstanding;
    private ActorRef<TrainBatch> consumer;

    private RecordedBatches(ActorContext<DataLoaderActor.Command> context, List<TrainBatch> batches) {
        super(context);
        this.batches = batches;
        this.segmentEnds = segmentEnds(batches);
    }

    /** @param batches what the recorded consumer received, in order */
    public static Behavior<DataLoaderActor.Command> create(List<TrainBatch> batches) {
        List<TrainBatch> recorded = List.copyOf(batches);
        return Behaviors.setup(context -> new RecordedBatches(context, recorded));
    }

    private static List<Integer> segmentEnds(List<TrainBatch> batches) {
        List<Integer> ends = new ArrayList<>();
        for (int i = 1; i < batches.size(); i++) {
            if (batches.get(i).index() <= batches.get(i - 1).index()) {
                ends.add(i);
            }
        }
        ends.add(batches.size());
        return ends;
    }

    @Override
    public Receive<DataLoaderActor.Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(DataLoaderActor.Subscribe.class, subscribe -> {
                    consumer = subscribe.consumer();
                    outstanding = 0;
                    return this;
                })
                .onMessage(DataLoaderActor.Demand.class, demand -> {
                    if (consumer == null) {
                        throw new IllegalStateException(demand.demand() + " arrived before any Subscribe");
                    }
                    outstanding += demand.demand().count();
                    serve();
                    return this;
                })
                .onMessage(DataLoaderActor.Reset.class, this::onReset)
                .build();
    }

    private void serve() {
        int end = segmentEnds.get(segment);
        while (outstanding > 0 && next < end) {
            consumer.tell(batches.get(next++));
            outstanding--;
        }
    }

    private Behavior<DataLoaderActor.Command> onReset(DataLoaderActor.Reset reset) {
        if (segment == segmentEnds.size() - 1) {
            throw new IllegalStateException("the consumer reset its loader after batch " + next + ", but the"
                    + " recording holds no reset there");
        }
        int end = segmentEnds.get(segment);
        while (next < end) {
            consumer.tell(batches.get(next++));
        }
        segment++;
        outstanding = 0;
        reset.replyTo().tell(new DataLoaderActor.ResetDone(batches.isEmpty() ? 0 : batches.getFirst().rank()));
        return this;
    }
}
