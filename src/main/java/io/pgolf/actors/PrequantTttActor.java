package io.pgolf.actors;

import io.pgolf.config.PrequantTttConfig;
import io.pgolf.model.Gpt;
import io.pgolf.model.eval.PrequantTtt;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.PrequantTttTrained;
import io.pgolf.protocol.Tokens;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Pre-quant TTT (non-record, see {@link PrequantTtt}) as a stage of its own between training and GPTQ, as seeds/001
 * runs it: on start it trains the model on the validation tokens, writes the adapted weights (which the quantizer
 * then quantizes), tells its listener {@link PrequantTttTrained} (the tokens it read, the weights version it made)
 * and stops. Nothing has been scored when it runs, so the message it leaves in the journal is exactly what the audit
 * reports as breaking "score before update". Blocking compute: spawn it on a dispatcher of its own.
 */
public final class PrequantTttActor {
    static final String NAME = "prequant-ttt";
    private static final String COMPUTE_DISPATCHER = "pgolf.dispatchers.trainer";

    /**
     * What the step needs. The model is the caller's: the step changes its weights and leaves it open.
     *
     * @param seqLen          the length of the training sequences (EVAL_SEQ_LEN, as the evaluations cut the tokens)
     * @param batchSeqs       sequences per optimizer step (TTT_BATCH_SEQS)
     * @param fromVersion     the version of the weights {@code model} holds now; the trained weights are the next one
     * @param weightsFile     where the adapted weights go (safetensors, the reference's names)
     * @param weightsMetadata written beside the tensors (the configuration that made them)
     * @param log             progress lines
     */
    public record Settings(Gpt model, Tokens tokens, int seqLen, int batchSeqs, PrequantTttConfig config,
                           long fromVersion, Path weightsFile, Map<String, String> weightsMetadata,
                           Consumer<String> log) {
        public Settings {
            weightsMetadata = Map.copyOf(weightsMetadata);
        }
    }

    private PrequantTttActor() {
    }

    public static Behavior<Void> create(Settings s, ActorRef<PrequantTttTrained> listener) {
        return Behaviors.setup(context -> {
            s.log().accept(String.format(Locale.ROOT, "pre-quant TTT on %,d validation tokens before GPTQ: %d epochs"
                    + " (a non-record run)", s.tokens().length(), s.config().prequantTttEpochs()));
            PrequantTtt.Training training = PrequantTtt.train(s.model(), s.tokens(), s.seqLen(), s.batchSeqs(),
                    s.config());
            s.model().parameters().saveTo(s.weightsFile(), "", s.weightsMetadata());
            s.log().accept(String.format(Locale.ROOT, "pre-quant TTT: %d epochs, %d steps on tokens %s, last epoch"
                            + " loss %.6f; weights %s", training.epochs(), training.optimizerSteps(),
                    training.tokensRead(), training.epochLosses().isEmpty() ? Double.NaN
                            : training.epochLosses().getLast(), s.weightsFile()));
            listener.tell(new PrequantTttTrained(s.fromVersion(), s.fromVersion() + 1, training.tokensRead(),
                    training.epochs(), training.optimizerSteps(), training.learningRate(), training.frozenBlocks(),
                    training.epochLosses()));
            return Behaviors.stopped();
        });
    }

    /**
     * The step as a stage of a run: the actor on a thread of its own, and a listener that journals its
     * {@link PrequantTttTrained} and completes {@code trained}.
     */
    public static Behavior<Void> supervisor(Settings settings, MessageJournal journal,
                                            CompletableFuture<PrequantTttTrained> trained) {
        return WorkerStage.supervisor(PrequantTttTrained.class, NAME, "prequant-listener",
                listener -> create(settings, listener), DispatcherSelector.fromConfig(COMPUTE_DISPATCHER), journal,
                trained);
    }
}
