package io.pgolf.actors;

import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.PipelineMessage;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Function;

/**
 * Wraps an actor's behavior so that each {@link PipelineMessage} it receives is appended to a {@link MessageJournal}
 * before the actor handles it. The recipient is recorded as the actor's path. Pekko Typed messages carry no sender,
 * so the caller names it. A message that cannot be journaled fails the actor rather than going unrecorded.
 */
public final class Journaling {
    private Journaling() {
    }

    /** Journals every received message that is a PipelineMessage; other messages pass through unrecorded. */
    public static <T> Behavior<T> wrap(Behavior<T> behavior, MessageJournal journal, String sender) {
        return wrap(behavior, journal, sender, message -> message instanceof PipelineMessage m ? m : null);
    }

    /**
     * For actors whose messages carry a PipelineMessage inside an envelope (with a reply address, say):
     * {@code payloadOf} returns what to journal for a message, or null to let it pass unrecorded.
     */
    public static <T> Behavior<T> wrap(Behavior<T> behavior, MessageJournal journal, String sender,
                                       Function<? super T, ? extends PipelineMessage> payloadOf) {
        return wrap(behavior, journal, message -> sender, payloadOf);
    }

    /**
     * For actors that hear from several senders, or whose envelopes say who asked (a reply address):
     * {@code senderOf} names the sender of each journaled message.
     */
    public static <T> Behavior<T> wrap(Behavior<T> behavior, MessageJournal journal,
                                       Function<? super T, String> senderOf,
                                       Function<? super T, ? extends PipelineMessage> payloadOf) {
        return Behaviors.intercept(() -> new JournalingInterceptor<>(journal, senderOf, payloadOf), behavior);
    }

    private static final class JournalingInterceptor<T> extends BehaviorInterceptor<T, T> {
        private final MessageJournal journal;
        private final Function<? super T, String> senderOf;
        private final Function<? super T, ? extends PipelineMessage> payloadOf;

        @SuppressWarnings("unchecked")
        JournalingInterceptor(MessageJournal journal, Function<? super T, String> senderOf,
                              Function<? super T, ? extends PipelineMessage> payloadOf) {
            // Every message is offered to payloadOf, which decides what to journal.
            super((Class<T>) (Class<?>) Object.class);
            this.journal = journal;
            this.senderOf = senderOf;
            this.payloadOf = payloadOf;
        }

        @Override
        public Behavior<T> aroundReceive(TypedActorContext<T> ctx, T message, ReceiveTarget<T> target) {
            PipelineMessage payload = payloadOf.apply(message);
            if (payload != null) {
                String recipient = ctx.asJava().getSelf().path().toStringWithoutAddress();
                try {
                    journal.append(senderOf.apply(message), recipient, payload);
                } catch (IOException e) {
                    throw new UncheckedIOException(recipient + " could not journal a "
                            + payload.getClass().getSimpleName() + " to " + journal.file(), e);
                }
            }
            return target.apply(ctx, message);
        }
    }
}
