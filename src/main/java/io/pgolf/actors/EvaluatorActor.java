package io.pgolf.actors;

import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.model.Gpt;
import io.pgolf.model.eval.GptScorer;
import io.pgolf.model.eval.PlainEvaluation;
import io.pgolf.model.eval.SlidingEvaluation;
import io.pgolf.model.eval.SlidingWindows;
import io.pgolf.model.eval.TokenScorer;
import io.pgolf.protocol.Evaluated;
import io.pgolf.protocol.EvaluationMethod;
import io.pgolf.protocol.MessageJournal;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The Evaluator: scores a model once on the validation tokens, in plain or sliding windows, tells its listener
 * {@link Evaluated} and stops. It reads the model's weights as they are when it starts and leaves them unchanged.
 * Scoring takes seconds to minutes of blocking compute: spawn it on a dispatcher of its own.
 */
public final class EvaluatorActor {
    private static final String COMPUTE_DISPATCHER = "pgolf.dispatchers.trainer";

    /** An evaluation to run: how its windows lie, and the scoring itself. */
    public record Job(EvaluationMethod method, int seqLen, int stride, long windows,
                      Function<TokenScorer, BitsPerByte.Totals> scoring) {
        public static Job plain(PlainEvaluation evaluation, int seqLen) {
            return new Job(EvaluationMethod.PLAIN, seqLen, seqLen, evaluation.windows(), evaluation::run);
        }

        public static Job sliding(SlidingEvaluation evaluation) {
            SlidingWindows windows = evaluation.windows();
            return new Job(EvaluationMethod.SLIDING, windows.seqLen(), windows.stride(), windows.count(),
                    evaluation::run);
        }
    }

    private EvaluatorActor() {
    }

    public static Behavior<Void> create(Job job, Gpt model, ActorRef<Evaluated> listener) {
        return Behaviors.setup(context -> {
            long start = System.nanoTime();
            BitsPerByte.Totals totals = job.scoring().apply(new GptScorer(model));
            listener.tell(new Evaluated(job.method(), job.seqLen(), job.stride(), job.windows(), totals.meanLoss(),
                    totals.bitsPerByte(), totals.tokens(), totals.bytes(), (System.nanoTime() - start) / 1e9));
            return Behaviors.stopped();
        });
    }

    /**
     * The evaluation as a stage of a run: the evaluator on a thread of its own, and a listener that journals its
     * {@link Evaluated} and completes {@code evaluated}.
     */
    public static Behavior<Void> supervisor(Job job, Gpt model, MessageJournal journal,
                                            CompletableFuture<Evaluated> evaluated) {
        return WorkerStage.supervisor(Evaluated.class, "evaluator", "evaluation-listener",
                listener -> create(job, model, listener), DispatcherSelector.fromConfig(COMPUTE_DISPATCHER), journal,
                evaluated);
    }
}
