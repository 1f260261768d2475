package io.pgolf.deploy;

import io.pgolf.actors.EvaluatorActor;
import io.pgolf.actors.RunPipeline.Stage;
import io.pgolf.actors.TttDriver;
import io.pgolf.actors.TttPipeline;
import io.pgolf.config.PgolfConfig;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.model.Gpt;
import io.pgolf.model.eval.SlidingEvaluation;
import io.pgolf.protocol.Evaluated;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TttFinished;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The evaluations of a model rebuilt from an artifact, as stages of a run, in the reference's order: plain windows,
 * sliding windows (SLIDING_WINDOW_ENABLED, EVAL_STRIDE), then score-first TTT (TTT_ENABLED, with pre-quant TTT first
 * when PREQUANT_TTT_ENABLED), last because it changes the weights.
 */
record EvaluationStages(Stage<Evaluated> plain, Optional<Stage<Evaluated>> sliding, Optional<Stage<TttFinished>> ttt) {
    static final String PLAIN = "eval-plain";
    static final String SLIDING = "eval-sliding";
    static final String TTT = "eval-ttt";

    /**
     * @param model  the model the stages score; its weights must be in place when the first stage starts
     * @param tokens the validation tokens ({@link PlainValidation#tokens})
     */
    static EvaluationStages of(PgolfConfig cfg, Gpt model, Tokens tokens, ByteTables tables, MessageJournal journal,
                               Consumer<String> log) {
        int seqLen = cfg.eval().evalSeqLen();
        EvaluatorActor.Job plainJob = EvaluatorActor.Job.plain(PlainValidation.of(tokens, cfg, tables), seqLen);
        Stage<Evaluated> plain = Stage.of(PLAIN, done -> EvaluatorActor.supervisor(plainJob, model, journal, done));
        Optional<Stage<Evaluated>> sliding = Optional.empty();
        if (cfg.eval().slidingWindowEnabled()) {
            EvaluatorActor.Job slidingJob = EvaluatorActor.Job.sliding(new SlidingEvaluation(tokens, seqLen,
                    cfg.eval().evalStride(), cfg.eval().slidingBatchSeqs(), tables));
            sliding = Optional.of(Stage.of(SLIDING, done -> EvaluatorActor.supervisor(slidingJob, model, journal,
                    done)));
        }
        Optional<Stage<TttFinished>> ttt = Optional.empty();
        if (cfg.ttt().tttEnabled()) {
            TttDriver.Settings settings = new TttDriver.Settings(model, tokens, tables, seqLen, cfg.eval().evalStride(),
                    cfg.ttt(), cfg.prequantTtt().prequantTttEnabled() ? Optional.of(cfg.prequantTtt())
                    : Optional.empty(), journal, log);
            ttt = Optional.of(Stage.of(TTT, done -> TttPipeline.supervisor(settings, done)));
        }
        return new EvaluationStages(plain, sliding, ttt);
    }

    List<Stage<?>> all() {
        List<Stage<?>> stages = new ArrayList<>(List.of(plain));
        sliding.ifPresent(stages::add);
        ttt.ifPresent(stages::add);
        return stages;
    }
}
