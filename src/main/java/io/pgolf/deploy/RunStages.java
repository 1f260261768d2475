package io.pgolf.deploy;

import io.pgolf.actors.PrequantTttActor;
import io.pgolf.actors.QuantizePipeline;
import io.pgolf.actors.RunPipeline.Stage;
import io.pgolf.actors.TrainingPipeline;
import io.pgolf.config.PgolfConfig;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.loader.MicroBatchShape;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.gpu.Backend;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.eval.PlainEvaluation;
import io.pgolf.model.optim.ModelOptimizer;
import io.pgolf.model.train.TrainerSettings;
import io.pgolf.model.train.TrainingEngine;
import io.pgolf.data.shard.Shards;
import io.pgolf.protocol.ArtifactRefused;
import io.pgolf.protocol.DataPrepared;
import io.pgolf.protocol.InputFile;
import io.pgolf.protocol.InputRole;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.PrequantTttTrained;
import io.pgolf.protocol.StageFinished;
import io.pgolf.protocol.TrainingFinished;
import io.pgolf.protocol.ValidationReport;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The stages of one run of the whole pipeline, in order, into a run folder ({@code pgolf train}, {@code pgolf demo},
 * and the replay of either):
 * <ol>
 *   <li>prepare (documents given): the Tokenizer actors write the shards to RUN/data, journaled as
 *       {@code DataPrepared};</li>
 *   <li>train: DataLoader -> Trainer, the EMA weights to RUN/final_model.safetensors;</li>
 *   <li>prequant-ttt (PREQUANT_TTT_ENABLED, non-record, seeds/001): AdamW on the validation tokens, the adapted
 *       weights to RUN/prequant_ttt_model.safetensors, which the quantizer then takes;</li>
 *   <li>quantize: DataLoader -> Quantizer -> Compressor, RUN/final_model.artifact, refused over the budget;</li>
 *   <li>the artifact's evaluation ({@link EvaluationStages}): read back, plain, sliding, TTT.</li>
 * </ol>
 * Batches, the training clock and TTT requests come from {@link RunSources}. Each stage makes what it needs when it
 * starts; closing this closes the models the stages loaded.
 */
final class RunStages implements StagedRun {
    static final String PREPARE = "prepare";
    static final String TRAIN = "train";
    static final String PREQUANT = "prequant-ttt";
    static final String QUANTIZE = "quantize";
    static final String WEIGHTS = "final_model.safetensors";
    /** Pre-quant TTT's adapted weights: training's EMA weights stay in {@link #WEIGHTS}. */
    static final String PREQUANT_WEIGHTS = "prequant_ttt_model.safetensors";
    static final String ARTIFACT = "final_model.artifact";
    /** The journal's sender of DataPrepared: the Tokenizer actors, which the prepare stage runs. */
    private static final String TOKENIZERS = "tokenizer-pool";

    private final List<AutoCloseable> resources;
    private final Optional<Stage<PrepareCommand.Prepared>> prepare;
    private final Stage<TrainingFinished> train;
    private final Optional<Stage<PrequantTttTrained>> prequant;
    private final Optional<Stage<QuantizePipeline.Outcome>> quantize;
    private final Optional<EvaluationStages> evaluation;

    private RunStages(List<AutoCloseable> resources, Optional<Stage<PrepareCommand.Prepared>> prepare,
                      Stage<TrainingFinished> train, Optional<Stage<PrequantTttTrained>> prequant,
                      Optional<Stage<QuantizePipeline.Outcome>> quantize, Optional<EvaluationStages> evaluation) {
        this.resources = resources;
        this.prepare = prepare;
        this.train = train;
        this.prequant = prequant;
        this.quantize = quantize;
        this.evaluation = evaluation;
    }

    /** The shard folder a run reads: RUN/data when it tokenizes documents first. */
    static Path dataset(PipelineRun.Request r) {
        return r.docs().isPresent() ? r.run().resolve("data") : r.dataset();
    }

    /** @param configListing the resolved configuration, recorded in the weights files the stages write */
    static RunStages of(PipelineRun.Request r, String configListing, Backend backend, MessageJournal journal,
                        RunSources sources, Consumer<String> line) {
        PgolfConfig cfg = r.resolved().config();
        Path dataset = dataset(r);
        Path weightsFile = r.run().resolve(WEIGHTS);
        Path prequantWeightsFile = r.run().resolve(PREQUANT_WEIGHTS);
        Path artifactFile = r.run().resolve(ARTIFACT).toAbsolutePath();
        Map<String, String> weightsMetadata = Map.of(TrainedModel.CONFIG_METADATA, configListing);
        List<AutoCloseable> resources = new CopyOnWriteArrayList<>();

        Optional<Stage<PrepareCommand.Prepared>> prepare = r.docs().map(docs -> Stage.task(PREPARE, system -> {
            PrepareCommand.Prepared prepared = PrepareCommand.prepare(system, docs, r.tokenizer(),
                    Optional.of(cfg.data()), dataset, cfg.data().numValDocs(), cfg.data().shardTokens(), r.threads());
            journal.append(TOKENIZERS, "/user/" + PREPARE, dataPrepared(prepared, dataset));
            return prepared;
        }));
        Stage<TrainingFinished> train = Stage.of(TRAIN, done -> TrainingPipeline.supervisor(
                trainingSettings(r, dataset, backend, weightsFile, weightsMetadata, journal, sources, line), done));
        Optional<Stage<PrequantTttTrained>> prequant = r.lastStage() != PipelineRun.LastStage.TRAIN
                && cfg.prequantTtt().prequantTttEnabled()
                ? Optional.of(Stage.of(PREQUANT, done -> {
                    TrainedModel trained = TrainedModel.load(weightsFile, r.resolved(), backend, line);
                    resources.add(trained);
                    return PrequantTttActor.supervisor(new PrequantTttActor.Settings(trained.model(),
                            PlainValidation.tokens(dataset, cfg.eval().evalSeqLen(), r.valTokens()),
                            cfg.eval().evalSeqLen(), cfg.ttt().tttBatchSeqs(), cfg.prequantTtt(), 0,
                            prequantWeightsFile, weightsMetadata, line), journal, done);
                }))
                : Optional.empty();
        Path quantizedWeights = prequant.isPresent() ? prequantWeightsFile : weightsFile;
        Optional<Stage<QuantizePipeline.Outcome>> quantize = r.lastStage() != PipelineRun.LastStage.TRAIN
                ? Optional.of(Stage.of(QUANTIZE, done -> {
                    Quantization quantization = Quantization.load(quantizedWeights, r.resolved(), backend,
                            artifactFile, r.threads(), line);
                    resources.add(quantization);
                    return QuantizePipeline.supervisor(quantization.settings(journal,
                            sources.calibrationBatches(dataset)), failingOnRefusal(done));
                }))
                : Optional.empty();
        Optional<EvaluationStages> evaluation = r.lastStage() == PipelineRun.LastStage.EVALUATE
                ? Optional.of(EvaluationStages.of(r.resolved(), artifactFile, backend, dataset, r.valTokens(),
                r.tokenizer(), () -> prequant.map(stage -> stage.result().toVersion()).orElse(0L),
                sources::tttStage, journal, line))
                : Optional.empty();
        evaluation.ifPresent(resources::add);
        return new RunStages(resources, prepare, train, prequant, quantize, evaluation);
    }

    @Override
    public List<Stage<?>> all() {
        List<Stage<?>> stages = new ArrayList<>();
        prepare.ifPresent(stages::add);
        stages.add(train);
        prequant.ifPresent(stages::add);
        quantize.ifPresent(stages::add);
        evaluation.ifPresent(e -> stages.addAll(e.all()));
        return stages;
    }

    /** What the stages produced, once every one of them has finished. */
    RunReport.Results results(List<ValidationReport> validations, List<StageFinished> finished) {
        return new RunReport.Results(prepare.map(Stage::result), train.result(), validations,
                prequant.map(Stage::result), quantize.map(Stage::result),
                evaluation.map(e -> e.load().result().artifact()), evaluation.map(e -> e.plain().result()),
                evaluation.flatMap(EvaluationStages::sliding).map(Stage::result),
                evaluation.flatMap(EvaluationStages::ttt).map(Stage::result), finished);
    }

    /** A prepare stage's outcome with every shard it wrote to {@code dataset}, hashed. */
    private static DataPrepared dataPrepared(PrepareCommand.Prepared prepared, Path dataset) throws IOException {
        List<InputFile> shards = new ArrayList<>(RunInputs.validationShards(dataset));
        shards.addAll(RunInputs.hashAll(InputRole.TRAIN_SHARD, Shards.list(dataset, "train")));
        return new DataPrepared(prepared.documents(), prepared.textBytes(), prepared.valTokens(),
                prepared.trainTokens(), shards);
    }

    /** DataLoader, model and engine of the training stage, made when it starts (the shards may be prepared first). */
    private static TrainingPipeline.Settings trainingSettings(PipelineRun.Request r, Path dataset, Backend backend,
                                                              Path weightsFile, Map<String, String> weightsMetadata,
                                                              MessageJournal journal, RunSources sources,
                                                              Consumer<String> line) throws IOException {
        PgolfConfig cfg = r.resolved().config();
        int accum = cfg.distributed().gradAccumSteps();
        int seqLen = cfg.eval().evalSeqLen();
        SentencePieceModel spm = SentencePieceModel.load(r.tokenizer());
        PlainEvaluation validation = PlainValidation.of(dataset, cfg, ByteTables.of(spm, cfg.data().vocabSize()),
                r.valTokens());
        MicroBatchShape shape = MicroBatchShape.of(cfg.train().trainBatchTokens(), cfg.distributed().worldSize(),
                cfg.train().trainSeqLen());
        TrainerSettings settings = TrainerSettings.of(cfg, accum, weightsFile, weightsMetadata);
        Gpt model = Gpt.initialized(backend,
                new GptLayout(cfg.model(), cfg.data().vocabSize(), cfg.optimizer().tiedEmbedInitStd()), cfg.train().seed());
        TrainingEngine engine = new TrainingEngine(model,
                new ModelOptimizer(model.parameters(), cfg.optimizer(), cfg.model().tieEmbeddings()), accum);
        line.accept(String.format("train: %s, %,d parameters, %d x %d tokens per micro-batch, %d micro-batches per "
                        + "step, %,d validation tokens, run folder %s", backend.name(),
                model.parameters().elementCount(), shape.rows(), shape.seqLen(), accum,
                validation.windows() * (long) seqLen, r.run()));
        return new TrainingPipeline.Settings(sources.trainingBatches(dataset).open(cfg.distributed().rank(), shape),
                engine, settings, sources.trainingClock(), Optional.of(validation), journal, line,
                cfg.train().trainLogEvery());
    }

    /** The quantize stage's outcome, completed exceptionally when the artifact did not fit the budget. */
    private static CompletableFuture<QuantizePipeline.Outcome> failingOnRefusal(
            CompletableFuture<QuantizePipeline.Outcome> done) {
        CompletableFuture<QuantizePipeline.Outcome> quantized = new CompletableFuture<>();
        quantized.whenComplete((outcome, failure) -> {
            if (failure != null) {
                done.completeExceptionally(failure);
            } else if (outcome.artifact() instanceof ArtifactRefused refused) {
                done.completeExceptionally(new IllegalStateException(refused.reason()));
            } else {
                done.complete(outcome);
            }
        });
        return quantized;
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable resource : resources.reversed()) {
            resource.close();
        }
    }
}
