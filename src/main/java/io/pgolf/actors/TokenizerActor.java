package io.pgolf.actors;

import io.pgolf.protocol.TokenizeBatch;
import io.pgolf.protocol.TokenizedBatch;
import io.pgolf.protocol.Tokens;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.PoolRouter;
import org.apache.pekko.actor.typed.javadsl.Routers;
import org.apache.pekko.pattern.StatusReply;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Tokenizes batches of documents. One actor is one worker; {@link #pool} spreads batches over several workers
 * on the CPU-bound tokenizer dispatcher. Replies carry the batch's sequence number so the caller can restore
 * corpus order.
 */
public final class TokenizerActor {
    /** The dispatcher (in pgolf-actors.conf) that tokenizer workers run on, away from the actors that coordinate. */
    public static final String DISPATCHER = "pgolf.dispatchers.tokenizer";

    /** Asks for {@code batch} to be tokenized; the reply is the batch's ids or the reason it failed. */
    public record Tokenize(TokenizeBatch batch, ActorRef<StatusReply<TokenizedBatch>> replyTo) {
    }

    private TokenizerActor() {
    }

    public static Behavior<Tokenize> worker(Function<String, int[]> encoder) {
        return Behaviors.receiveMessage(msg -> {
            msg.replyTo().tell(tokenize(encoder, msg.batch()));
            return Behaviors.same();
        });
    }

    public static PoolRouter<Tokenize> pool(int workers, Function<String, int[]> encoder) {
        return Routers.pool(workers, worker(encoder))
                .withRoundRobinRouting()
                .withRouteeProps(DispatcherSelector.fromConfig(DISPATCHER));
    }

    private static StatusReply<TokenizedBatch> tokenize(Function<String, int[]> encoder, TokenizeBatch batch) {
        List<Tokens> docs = new ArrayList<>(batch.texts().size());
        long bytes = 0;
        for (int i = 0; i < batch.texts().size(); i++) {
            String text = batch.texts().get(i);
            try {
                docs.add(Tokens.of(encoder.apply(text)));
            } catch (RuntimeException e) {
                return StatusReply.error(new IllegalStateException(
                        "document " + (batch.firstDoc() + i) + " could not be tokenized: " + e.getMessage(), e));
            }
            bytes += text.getBytes(StandardCharsets.UTF_8).length;
        }
        return StatusReply.success(new TokenizedBatch(batch.batchSeq(), batch.firstDoc(), docs, bytes));
    }
}
