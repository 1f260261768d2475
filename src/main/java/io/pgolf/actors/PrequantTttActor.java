package io.pgolf.actors;

import io.pgolf.config.PrequantTttConfig;
import io.pgolf.model.Gpt;
import io.pgolf.model.eval.PrequantTtt;
import io.pgolf.protocol.PrequantTttTrained;
import io.pgolf.protocol.Tokens;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Pre-quant TTT (non-record, see {@link PrequantTtt}) as a step of its own: on start it trains the model on the
 * validation tokens, tells its listener {@link PrequantTttTrained} (the tokens it read, the weights version it made)
 * and stops. Nothing has been scored when it runs, so the message it leaves in the journal is exactly what the
 * audit reports as breaking "score before update". Blocking compute: spawn it on a dispatcher of its own.
 */
public final class PrequantTttActor {
    private PrequantTttActor() {
    }

    /**
     * @param fromVersion the version of the weights {@code model} holds now; the trained weights are the next one
     */
    public static Behavior<Void> create(Gpt model, Tokens tokens, int seqLen, int batchSeqs, PrequantTttConfig config,
                                        long fromVersion, ActorRef<PrequantTttTrained> listener) {
        return Behaviors.setup(context -> {
            PrequantTtt.Training training = PrequantTtt.train(model, tokens, seqLen, batchSeqs, config);
            listener.tell(new PrequantTttTrained(fromVersion, fromVersion + 1, training.tokensRead(),
                    training.epochs(), training.optimizerSteps(), training.learningRate(), training.frozenBlocks(),
                    training.epochLosses()));
            return Behaviors.stopped();
        });
    }
}
