package io.pgolf.deploy;

import io.pgolf.actors.TrainingPipeline;
import io.pgolf.config.ConfigOptions;
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
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.TrainingFinished;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code pgolf train}: Tokenizer (when given documents) -> DataLoader -> Trainer on the CPU backend, writing the
 * trained (EMA) weights under the reference's names into a run folder with the log, the journal and the config.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train the model of the configuration on shards (or on documents, tokenized first) on the CPU.")
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions config;

    @Option(names = "--data", paramLabel = "DIR",
            description = "folder of fineweb_{train,val}_*.bin shards (default: DATA_DIR/datasets/fineweb10B_sp{VOCAB_SIZE})")
    Path data;

    @Option(names = "--docs", paramLabel = "FILE",
            description = "JSONL corpus to tokenize into RUN/data first (through the Tokenizer actors) instead of --data")
    Path docs;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "SentencePiece model (default: DATA_DIR/tokenizers/fineweb_{VOCAB_SIZE}_bpe.model)")
    Path tokenizer;

    @Option(names = "--out", paramLabel = "DIR", description = "run folder (default: runs/train-<date-time>)")
    Path out;

    @Option(names = "--threads", description = "CPU backend threads (default: the number of cores)")
    Integer threads;

    @Option(names = "--val-tokens", paramLabel = "N",
            description = "validate on the first N validation tokens only (whole windows; default: all). A run that "
                    + "sets it reports a bpb that is not the challenge's.")
    Long valTokens;

    @Override
    public Integer call() throws Exception {
        if (docs != null && data != null) {
            throw new IllegalArgumentException("give --docs or --data, not both");
        }
        ResolvedConfig resolved = config.resolve(System.getenv());
        PgolfConfig cfg = resolved.config();
        Path run = out != null ? out : Path.of("runs", "train-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Files.createDirectories(run);
        String configListing = HoconListing.of(resolved);
        writeAtomically(run.resolve("config.conf"), configListing);

        Path tokenizerFile = tokenizer != null ? tokenizer : cfg.data().tokenizerFile();
        SentencePieceModel spm = SentencePieceModel.load(tokenizerFile);
        cfg.data().requireVocabMatches(spm.vocabSize(), tokenizerFile);
        int workers = Runtime.getRuntime().availableProcessors();
        Path dataset = docs != null ? run.resolve("data") : data != null ? data : cfg.data().datasetDir();
        if (docs != null) {
            PrepareCommand.prepare(docs, tokenizerFile, Optional.of(cfg.data()), dataset, cfg.data().numValDocs(),
                    cfg.data().shardTokens(), workers);
        }

        int accum = cfg.distributed().gradAccumSteps();
        PlainEvaluation validation = PlainValidation.of(dataset, cfg, ByteTables.of(spm, cfg.data().vocabSize()), valTokens);
        MicroBatchShape shape = MicroBatchShape.of(cfg.train().trainBatchTokens(), cfg.distributed().worldSize(),
                cfg.train().trainSeqLen());
        TrainBatchLoader loader = TrainBatchLoader.open(dataset, cfg.distributed().rank(), shape);

        Backend backend = new CpuBackend(threads != null ? threads : workers);
        Gpt model = Gpt.initialized(backend,
                new GptLayout(cfg.model(), cfg.data().vocabSize(), cfg.optimizer().tiedEmbedInitStd()), cfg.train().seed());
        ModelOptimizer optimizer = new ModelOptimizer(model.parameters(), cfg.optimizer(), cfg.model().tieEmbeddings());
        TrainingEngine engine = new TrainingEngine(model, optimizer, accum);
        Path weights = run.resolve("final_model.safetensors");
        TrainerSettings settings = TrainerSettings.of(cfg, accum, weights, Map.of("pgolf.config", configListing));

        PrintWriter console = spec.commandLine().getOut();
        Path logFile = run.resolve("train.log");
        Path journalFile = run.resolve("train.journal");
        try (PrintWriter log = new PrintWriter(Files.newBufferedWriter(logFile, StandardCharsets.UTF_8));
             MessageJournal journal = MessageJournal.create(journalFile, MessageJournal.Options.DEFAULT)) {
            Consumer<String> line = text -> {
                console.println(text);
                console.flush();
                log.println(text);
                log.flush();
            };
            line.accept(String.format("pgolf train: %s, %,d parameters, %d x %d tokens per micro-batch, %d micro-batches per step, run folder %s",
                    backend.name(), model.parameters().elementCount(), shape.rows(), shape.seqLen(), accum, run));
            TrainingFinished finished;
            try {
                finished = TrainingPipeline.run(new TrainingPipeline.Settings(loader, engine, settings,
                        Optional.of(validation), journal, line, cfg.train().trainLogEvery()));
            } finally {
                backend.close();
            }
            line.accept(String.format("pgolf train: weights %s, log %s", finished.weightsFile(), logFile));
        }
        console.printf("pgolf train: journal %s holds %,d trainer events%n", journalFile,
                JournalReader.readAll(journalFile).entries().size());
        console.flush();
        return 0;
    }

    private static void writeAtomically(Path file, String text) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
