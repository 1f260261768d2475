package io.pgolf.actors;

import io.pgolf.data.loader.TrainBatchLoader;
import io.pgolf.protocol.BatchDemand;
import io.pgolf.protocol.TrainBatch;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Serves one rank's training micro-batches on demand. A consumer {@link Subscribe}s, then asks for batches with
 * {@link Demand}; the actor sends exactly the number demanded, in order, numbered from 0, and holds no batch it was
 * not asked for. It assembles one batch per message to itself, so demand, subscription and {@link Reset} are handled
 * between batches however large the demand. Shard reads can fault pages in from disk: spawn it on a dispatcher meant
 * for blocking work (e.g. {@code DispatcherSelector.blocking()}).
 */
public final class DataLoaderActor extends AbstractBehavior<DataLoaderActor.Command> {
    /** What the actor accepts; the internal {@code AssembleNext} is not for other senders. */
    public sealed interface Command permits Subscribe, Demand, Reset, AssembleNext {
    }

    /** Makes {@code consumer} the receiver of all further batches; demand not yet served for a previous one is dropped. */
    public record Subscribe(ActorRef<TrainBatch> consumer) implements Command {
    }

    /** The subscribed consumer asks for {@code demand.count()} more batches, added to what it still awaits. */
    public record Demand(BatchDemand demand) implements Command {
    }

    /**
     * Restarts the batch sequence from its first batch (index 0) and drops demand not yet served. The reply comes after
     * every batch sent before the reset, so a consumer that is also {@code replyTo} knows where the new sequence starts.
     */
    public record Reset(ActorRef<ResetDone> replyTo) implements Command {
    }

    /** Reply to {@link Reset}: rank {@code rank}'s loader is back at its first batch. */
    public record ResetDone(int rank) {
    }

    private enum AssembleNext implements Command {
        INSTANCE
    }

    private final TrainBatchLoader loader;
    private ActorRef<TrainBatch> consumer;
    /** Batches demanded but not yet sent; saturates instead of overflowing. */
    private long outstanding;
    /** Whether an AssembleNext is in the mailbox; at most one is, so batches go out one per message. */
    private boolean assembling;

    private DataLoaderActor(ActorContext<Command> context, TrainBatchLoader loader) {
        super(context);
        this.loader = loader;
    }

    /** The actor takes ownership of {@code loader} and closes it when it stops. */
    public static Behavior<Command> create(TrainBatchLoader loader) {
        return Behaviors.setup(context -> new DataLoaderActor(context, loader));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Subscribe.class, this::onSubscribe)
                .onMessage(Demand.class, this::onDemand)
                .onMessage(Reset.class, this::onReset)
                .onMessageEquals(AssembleNext.INSTANCE, this::onAssembleNext)
                .onSignal(PostStop.class, signal -> onStop())
                .build();
    }

    private Behavior<Command> onSubscribe(Subscribe subscribe) {
        consumer = subscribe.consumer();
        outstanding = 0;
        return this;
    }

    private Behavior<Command> onDemand(Demand demand) {
        if (consumer == null) {
            getContext().getLog().error("rank {}: {} arrived before any Subscribe; ignored", loader.rank(), demand.demand());
            return this;
        }
        long sum = outstanding + demand.demand().count();
        outstanding = sum < 0 ? Long.MAX_VALUE : sum;
        assembleLater();
        return this;
    }

    private Behavior<Command> onReset(Reset reset) {
        loader.reset();
        outstanding = 0;
        reset.replyTo().tell(new ResetDone(loader.rank()));
        return this;
    }

    private Behavior<Command> onAssembleNext() {
        assembling = false;
        if (outstanding > 0) {
            consumer.tell(loader.next());
            outstanding--;
            assembleLater();
        }
        return this;
    }

    private void assembleLater() {
        if (outstanding > 0 && !assembling) {
            assembling = true;
            getContext().getSelf().tell(AssembleNext.INSTANCE);
        }
    }

    private Behavior<Command> onStop() {
        loader.close();
        return this;
    }
}
