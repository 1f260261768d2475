package io.pgolf.deploy;

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
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.TrainingFinished;
import io.pgolf.protocol.ValidationReport;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One training run on the CPU backend, as {@code pgolf train} and {@code pgolf demo} start it: documents through the
 * Tokenizer actors when given, then DataLoader -> Trainer into a run folder holding config.conf, train.log,
 * train.journal and final_model.safetensors.
 */
final class TrainingRun {
    /**
     * @param docs      a JSONL corpus to tokenize into RUN/data first, or empty to train on {@code dataset}
     * @param valTokens validate on this many leading validation tokens only (whole windows), or all when empty
     */
    record Request(ResolvedConfig resolved, Optional<Path> docs, Path dataset, Path tokenizer, Path run, int threads,
                   Optional<Long> valTokens) {
    }

    /** What the run produced; {@code validations} in the order they happened. */
    record Outcome(TrainingFinished finished, List<ValidationReport> validations, Path journal, int journalEntries) {
    }

    private TrainingRun() {
    }

    static Outcome run(Request r, PrintWriter console) throws IOException, InterruptedException {
        PgolfConfig cfg = r.resolved().config();
        Files.createDirectories(r.run());
        String configListing = HoconListing.of(r.resolved());
        writeAtomically(r.run().resolve("config.conf"), configListing);

        SentencePieceModel spm = SentencePieceModel.load(r.tokenizer());
        cfg.data().requireVocabMatches(spm.vocabSize(), r.tokenizer());
        Path dataset = r.docs().isPresent() ? r.run().resolve("data") : r.dataset();
        if (r.docs().isEmpty() && !Files.isDirectory(dataset)) {
            throw new IllegalArgumentException("shard folder " + dataset + " does not exist (give --data DIR with "
                    + "fineweb_{train,val}_*.bin shards, or --docs FILE to tokenize a corpus first)");
        }
        if (r.docs().isPresent()) {
            PrepareCommand.prepare(r.docs().get(), r.tokenizer(), Optional.of(cfg.data()), dataset,
                    cfg.data().numValDocs(), cfg.data().shardTokens(), Runtime.getRuntime().availableProcessors());
        }

        int accum = cfg.distributed().gradAccumSteps();
        int seqLen = cfg.eval().evalSeqLen();
        PlainEvaluation validation = PlainValidation.of(dataset, cfg, ByteTables.of(spm, cfg.data().vocabSize()),
                r.valTokens());
        MicroBatchShape shape = MicroBatchShape.of(cfg.train().trainBatchTokens(), cfg.distributed().worldSize(),
                cfg.train().trainSeqLen());
        TrainBatchLoader loader = TrainBatchLoader.open(dataset, cfg.distributed().rank(), shape);

        Backend backend = new CpuBackend(r.threads());
        Gpt model = Gpt.initialized(backend,
                new GptLayout(cfg.model(), cfg.data().vocabSize(), cfg.optimizer().tiedEmbedInitStd()), cfg.train().seed());
        TrainingEngine engine = new TrainingEngine(model,
                new ModelOptimizer(model.parameters(), cfg.optimizer(), cfg.model().tieEmbeddings()), accum);
        TrainerSettings settings = TrainerSettings.of(cfg, accum, r.run().resolve("final_model.safetensors"),
                Map.of("pgolf.config", configListing));

        Path journalFile = r.run().resolve("train.journal");
        try (PrintWriter log = new PrintWriter(Files.newBufferedWriter(r.run().resolve("train.log"), StandardCharsets.UTF_8));
             MessageJournal journal = MessageJournal.create(journalFile, MessageJournal.Options.DEFAULT)) {
            Consumer<String> line = text -> {
                console.println(text);
                console.flush();
                log.println(text);
                log.flush();
            };
            line.accept(String.format("train: %s, %,d parameters, %d x %d tokens per micro-batch, %d micro-batches per "
                            + "step, %,d validation tokens, run folder %s", backend.name(),
                    model.parameters().elementCount(), shape.rows(), shape.seqLen(), accum,
                    validation.windows() * (long) seqLen, r.run()));
            try {
                TrainingPipeline.run(new TrainingPipeline.Settings(loader, engine, settings, Optional.of(validation),
                        journal, line, cfg.train().trainLogEvery()));
            } finally {
                backend.close();
            }
        }
        List<JournalEntry> entries = JournalReader.readAll(journalFile).entries();
        TrainingFinished finished = entries.stream().map(JournalEntry::message)
                .filter(TrainingFinished.class::isInstance).map(TrainingFinished.class::cast).findFirst()
                .orElseThrow(() -> new IllegalStateException(journalFile + " holds no TrainingFinished"));
        List<ValidationReport> validations = entries.stream().map(JournalEntry::message)
                .filter(ValidationReport.class::isInstance).map(ValidationReport.class::cast).toList();
        return new Outcome(finished, validations, journalFile, entries.size());
    }

    private static void writeAtomically(Path file, String text) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
