package io.pgolf.deploy;

import io.pgolf.actors.EvaluatorActor;
import io.pgolf.actors.RunPipeline.Stage;
import io.pgolf.actors.TttDriver;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.artifact.ArchitectureKnobs;
import io.pgolf.data.artifact.ArtifactReader;
import io.pgolf.data.artifact.LoadedArtifact;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.gpu.Backend;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.eval.SlidingEvaluation;
import io.pgolf.protocol.Evaluated;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TttFinished;
import org.apache.pekko.actor.typed.Behavior;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The evaluation of an artifact as stages of a run: read it back and rebuild its model with the dequantized weights
 * and the depth loop on (the reference's roundtrip), then score it in the reference's order: plain windows, sliding
 * windows (SLIDING_WINDOW_ENABLED, EVAL_STRIDE), then score-first TTT (TTT_ENABLED), last because it changes the
 * weights. Closing it closes the rebuilt model.
 */
record EvaluationStages(Stage<Loaded> load, Stage<Evaluated> plain, Optional<Stage<Evaluated>> sliding,
                        Optional<Stage<TttFinished>> ttt) implements StagedRun {
    static final String LOAD = "load-artifact";
    static final String PLAIN = "eval-plain";
    static final String SLIDING = "eval-sliding";
    static final String TTT = "eval-ttt";

    /** Makes the TTT evaluation's stage supervisor: a run's driver ({@code TttPipeline::supervisor}), or a replay's. */
    @FunctionalInterface
    interface TttStage {
        Behavior<Void> supervisor(TttDriver.Settings settings, CompletableFuture<TttFinished> finished);
    }

    /** The artifact read back, its model with the dequantized weights, and what scoring it needs. */
    record Loaded(LoadedArtifact artifact, Gpt model, Tokens tokens, ByteTables tables) {
    }

    /**
     * @param resolved  the configuration: evaluation knobs, and a model architecture the artifact must agree with
     * @param dataset   the folder of validation shards
     * @param valTokens      score the first whole windows within this many tokens only, or all tokens when empty
     * @param weightsVersion when the TTT stage starts, the version of the artifact's weights: 0 unless they trained
     *                       on validation tokens (pre-quant TTT), which makes the TTT evaluation non-record
     * @param tttStage       what drives the TTT evaluator: a driver, or the requests a journal recorded
     */
    static EvaluationStages of(ResolvedConfig resolved, Path artifactFile, Backend backend, Path dataset,
                               Optional<Long> valTokens, Path tokenizerFile, LongSupplier weightsVersion,
                               TttStage tttStage, MessageJournal journal, Consumer<String> log) {
        PgolfConfig cfg = resolved.config();
        int seqLen = cfg.eval().evalSeqLen();
        Stage<Loaded> load = Stage.task(LOAD, system -> {
            LoadedArtifact artifact = ArtifactReader.read(artifactFile);
            String source = "artifact " + artifactFile;
            ArchitectureKnobs architecture = artifact.header().architecture();
            architecture.requireAgreement(resolved, source);
            GptLayout layout = architecture.layout(source);
            SentencePieceModel spm = SentencePieceModel.load(tokenizerFile);
            if (spm.vocabSize() != layout.vocabSize()) {
                throw new IllegalArgumentException(tokenizerFile + " has " + spm.vocabSize() + " pieces, but "
                        + source + " holds a model of vocabulary " + layout.vocabSize());
            }
            Tokens tokens = PlainValidation.tokens(dataset, seqLen, valTokens);
            Gpt model = Gpt.zeros(backend, layout);
            try {
                artifact.model().loadInto(model.parameters());
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
            model.setLooping(layout.config().numLoops() > 0);
            return new Loaded(artifact, model, tokens, ByteTables.of(spm, layout.vocabSize()));
        });
        Stage<Evaluated> plain = Stage.of(PLAIN, done -> {
            Loaded loaded = load.result();
            return EvaluatorActor.supervisor(EvaluatorActor.Job.plain(PlainValidation.of(loaded.tokens(), cfg,
                    loaded.tables()), seqLen), loaded.model(), journal, done);
        });
        Optional<Stage<Evaluated>> sliding = Optional.empty();
        if (cfg.eval().slidingWindowEnabled()) {
            sliding = Optional.of(Stage.of(SLIDING, done -> {
                Loaded loaded = load.result();
                return EvaluatorActor.supervisor(EvaluatorActor.Job.sliding(new SlidingEvaluation(loaded.tokens(),
                        seqLen, cfg.eval().evalStride(), cfg.eval().slidingBatchSeqs(), loaded.tables())),
                        loaded.model(), journal, done);
            }));
        }
        Optional<Stage<TttFinished>> ttt = Optional.empty();
        if (cfg.ttt().tttEnabled()) {
            ttt = Optional.of(Stage.of(TTT, done -> {
                Loaded loaded = load.result();
                return tttStage.supervisor(new TttDriver.Settings(loaded.model(), loaded.tokens(), loaded.tables(),
                        seqLen, cfg.eval().evalStride(), cfg.ttt(), weightsVersion.getAsLong(), journal, log), done);
            }));
        }
        return new EvaluationStages(load, plain, sliding, ttt);
    }

    @Override
    public List<Stage<?>> all() {
        List<Stage<?>> stages = new ArrayList<>(List.of(load, plain));
        sliding.ifPresent(stages::add);
        ttt.ifPresent(stages::add);
        return stages;
    }

    @Override
    public void close() {
        if (load.outcome().isDone() && !load.outcome().isCompletedExceptionally()) {
            load.result().model().close();
        }
    }
}
