package io.pgolf.deploy;

import io.pgolf.actors.PreparePipeline;
import io.pgolf.actors.PrequantTttActor;
import io.pgolf.actors.QuantizePipeline;
import io.pgolf.actors.RunPipeline;
import io.pgolf.actors.RunPipeline.Stage;
import io.pgolf.actors.TrainingPipeline;
import io.pgolf.config.HoconListing;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.loader.MicroBatchShape;
import io.pgolf.data.loader.TrainBatchLoader;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.eval.PlainEvaluation;
import io.pgolf.model.optim.ModelOptimizer;
import io.pgolf.model.train.TrainerSettings;
import io.pgolf.model.train.TrainingEngine;
import io.pgolf.protocol.ArtifactRefused;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.PrequantTttTrained;
import io.pgolf.protocol.StageFinished;
import io.pgolf.protocol.TrainingFinished;
import io.pgolf.protocol.ValidationReport;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * One run of the whole pipeline on the CPU backend, as {@code pgolf train} and {@code pgolf demo} start it: its
 * stages in sequence under one guardian ({@link RunPipeline}), into a run folder.
 * <ol>
 *   <li>prepare (documents given): the Tokenizer actors write the shards to RUN/data;</li>
 *   <li>train: DataLoader -> Trainer, the EMA weights to RUN/final_model.safetensors;</li>
 *   <li>prequant-ttt (PREQUANT_TTT_ENABLED, non-record, seeds/001): AdamW on the validation tokens, the adapted
 *       weights to RUN/prequant_ttt_model.safetensors, which the quantizer then takes;</li>
 *   <li>quantize: DataLoader -> Quantizer -> Compressor, RUN/final_model.artifact, refused over the budget;</li>
 *   <li>the artifact's evaluation ({@link EvaluationStages}): read back, plain, sliding, TTT.</li>
 * </ol>
 * The folder also holds config.conf, run.log, run.journal (every stage's messages) and, once every stage succeeded,
 * submission.json ({@link RunReport}).
 */
final class PipelineRun {
    static final String JOURNAL = "run.journal";
    static final String REPORT = "submission.json";
    static final String PREQUANT = "prequant-ttt";
    /** Pre-quant TTT's adapted weights: training's EMA weights stay in final_model.safetensors. */
    static final String PREQUANT_WEIGHTS = "prequant_ttt_model.safetensors";

    /** Where a run stops: after training, after writing the artifact, or after evaluating it. */
    enum LastStage { TRAIN, QUANTIZE, EVALUATE }

    /**
     * @param docs      a JSONL corpus to tokenize into RUN/data first, or empty to train on {@code dataset}
     * @param valTokens validate and evaluate on this many leading validation tokens only (whole windows), or all
     */
    record Request(ResolvedConfig resolved, Optional<Path> docs, Path dataset, Path tokenizer, Path run, int threads,
                   Optional<Long> valTokens, LastStage lastStage) {
    }

    /** What the run produced. */
    record Outcome(RunReport report, RunReport.Results results, Path journal, int journalEntries) {
    }

    private PipelineRun() {
    }

    static Outcome run(Request r, PrintWriter console) throws Exception {
        PgolfConfig cfg = r.resolved().config();
        Path journalFile = r.run().resolve(JOURNAL);
        if (Files.exists(journalFile)) {
            throw new IllegalArgumentException("run folder " + r.run() + " already holds a run (" + JOURNAL
                    + "); give another --out");
        }
        Files.createDirectories(r.run());
        String configListing = HoconListing.of(r.resolved());
        AtomicFiles.writeString(r.run().resolve("config.conf"), configListing);

        SentencePieceModel spm = SentencePieceModel.load(r.tokenizer());
        cfg.data().requireVocabMatches(spm.vocabSize(), r.tokenizer());
        Path dataset = r.docs().isPresent() ? r.run().resolve("data") : r.dataset();
        if (r.docs().isEmpty() && !Files.isDirectory(dataset)) {
            throw new IllegalArgumentException("shard folder " + dataset + " does not exist (give --data DIR with "
                    + "fineweb_{train,val}_*.bin shards, or --docs FILE to tokenize a corpus first)");
        }
        Path weightsFile = r.run().resolve("final_model.safetensors");
        Path prequantWeightsFile = r.run().resolve(PREQUANT_WEIGHTS);
        Map<String, String> weightsMetadata = Map.of(TrainedModel.CONFIG_METADATA, configListing);
        Path artifactFile = r.run().resolve("final_model.artifact").toAbsolutePath();

        // Models that stages load are closed after the run, whether it succeeded or not.
        List<AutoCloseable> resources = new CopyOnWriteArrayList<>();
        String hardware;
        Optional<Stage<PrepareCommand.Prepared>> prepare;
        Stage<TrainingFinished> train;
        Optional<Stage<PrequantTttTrained>> prequant;
        Optional<Stage<QuantizePipeline.Outcome>> quantize = Optional.empty();
        Optional<EvaluationStages> evaluation = Optional.empty();
        List<StageFinished> finished;
        try (PrintWriter log = new PrintWriter(Files.newBufferedWriter(r.run().resolve("run.log"), StandardCharsets.UTF_8));
             MessageJournal journal = MessageJournal.create(journalFile, MessageJournal.Options.DEFAULT);
             Backend backend = new CpuBackend(r.threads())) {
            hardware = backend.name();
            Consumer<String> line = text -> {
                console.println(text);
                console.flush();
                log.println(text);
                log.flush();
            };
            List<Stage<?>> stages = new ArrayList<>();
            prepare = r.docs().map(docs -> Stage.task("prepare", system ->
                    PrepareCommand.prepare(system, docs, r.tokenizer(), Optional.of(cfg.data()), dataset,
                            cfg.data().numValDocs(), cfg.data().shardTokens(), r.threads())));
            prepare.ifPresent(stages::add);
            train = Stage.of("train", done -> TrainingPipeline.supervisor(
                    trainingSettings(r, dataset, spm, backend, weightsFile, weightsMetadata, journal, line), done));
            stages.add(train);
            prequant = r.lastStage() != LastStage.TRAIN && cfg.prequantTtt().prequantTttEnabled()
                    ? Optional.of(Stage.of(PREQUANT, done -> {
                        TrainedModel trained = TrainedModel.load(weightsFile, r.resolved(), backend, line);
                        resources.add(trained);
                        return PrequantTttActor.supervisor(new PrequantTttActor.Settings(trained.model(),
                                PlainValidation.tokens(dataset, cfg.eval().evalSeqLen(), r.valTokens()),
                                cfg.eval().evalSeqLen(), cfg.ttt().tttBatchSeqs(), cfg.prequantTtt(), 0,
                                prequantWeightsFile, weightsMetadata, line), journal, done);
                    }))
                    : Optional.empty();
            prequant.ifPresent(stages::add);
            Path quantizedWeights = prequant.isPresent() ? prequantWeightsFile : weightsFile;
            if (r.lastStage() != LastStage.TRAIN) {
                quantize = Optional.of(Stage.of("quantize", done -> {
                    Quantization quantization = Quantization.load(quantizedWeights, r.resolved(), backend, dataset,
                            artifactFile, r.threads(), line);
                    resources.add(quantization);
                    return QuantizePipeline.supervisor(quantization.settings(journal), failingOnRefusal(done));
                }));
                stages.add(quantize.get());
            }
            if (r.lastStage() == LastStage.EVALUATE) {
                evaluation = Optional.of(EvaluationStages.of(r.resolved(), artifactFile, backend, dataset,
                        r.valTokens(), r.tokenizer(), () -> prequant.map(s -> s.result().toVersion()).orElse(0L),
                        journal, line));
                resources.add(evaluation.get());
                stages.addAll(evaluation.get().all());
            }
            try {
                finished = RunPipeline.run(stages, journal, r.docs().isPresent()
                        ? PreparePipeline.systemSettings(r.threads()) : Map.of(), line);
            } finally {
                for (AutoCloseable resource : resources.reversed()) {
                    resource.close();
                }
            }
        }
        List<JournalEntry> entries = JournalReader.readAll(journalFile).entries();
        List<ValidationReport> validations = entries.stream().map(JournalEntry::message)
                .filter(ValidationReport.class::isInstance).map(ValidationReport.class::cast).toList();
        RunReport.Results results = new RunReport.Results(prepare.map(Stage::result), train.result(), validations,
                prequant.map(Stage::result), quantize.map(Stage::result), evaluation.map(e -> e.load().result().artifact()),
                evaluation.map(e -> e.plain().result()),
                evaluation.flatMap(EvaluationStages::sliding).map(Stage::result),
                evaluation.flatMap(EvaluationStages::ttt).map(Stage::result), finished);
        RunReport report = RunReport.of(r.run().getFileName().toString(), results, r.resolved(), hardware,
                r.valTokens().isEmpty());
        report.write(r.run().resolve(REPORT));
        return new Outcome(report, results, journalFile, entries.size());
    }

    /** DataLoader, model and engine of the training stage, made when it starts (the shards may be prepared first). */
    private static TrainingPipeline.Settings trainingSettings(Request r, Path dataset, SentencePieceModel spm,
                                                              Backend backend, Path weightsFile,
                                                              Map<String, String> weightsMetadata,
                                                              MessageJournal journal, Consumer<String> line)
            throws IOException {
        PgolfConfig cfg = r.resolved().config();
        int accum = cfg.distributed().gradAccumSteps();
        int seqLen = cfg.eval().evalSeqLen();
        PlainEvaluation validation = PlainValidation.of(dataset, cfg, ByteTables.of(spm, cfg.data().vocabSize()),
                r.valTokens());
        MicroBatchShape shape = MicroBatchShape.of(cfg.train().trainBatchTokens(), cfg.distributed().worldSize(),
                cfg.train().trainSeqLen());
        TrainerSettings settings = TrainerSettings.of(cfg, accum, weightsFile, weightsMetadata);
        TrainBatchLoader loader = TrainBatchLoader.open(dataset, cfg.distributed().rank(), shape);
        Gpt model = Gpt.initialized(backend,
                new GptLayout(cfg.model(), cfg.data().vocabSize(), cfg.optimizer().tiedEmbedInitStd()), cfg.train().seed());
        TrainingEngine engine = new TrainingEngine(model,
                new ModelOptimizer(model.parameters(), cfg.optimizer(), cfg.model().tieEmbeddings()), accum);
        line.accept(String.format("train: %s, %,d parameters, %d x %d tokens per micro-batch, %d micro-batches per "
                        + "step, %,d validation tokens, run folder %s", backend.name(),
                model.parameters().elementCount(), shape.rows(), shape.seqLen(), accum,
                validation.windows() * (long) seqLen, r.run()));
        return new TrainingPipeline.Settings(loader, engine, settings, Optional.of(validation), journal, line,
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
}
