package io.pgolf.deploy;

import io.pgolf.actors.PreparePipeline;
import io.pgolf.actors.RunPipeline;
import io.pgolf.config.HoconListing;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.loader.TrainBatchLoader;
import io.pgolf.data.shard.Shards;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Backends;
import io.pgolf.protocol.InputFile;
import io.pgolf.protocol.InputRole;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.StageFinished;
import io.pgolf.protocol.ValidationReport;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One run of the whole pipeline on the configured backend (pgolf.runtime.pgolf-backend), as {@code pgolf train} and
 * {@code pgolf demo} start it: its stages ({@link RunStages}) in sequence under one guardian ({@link RunPipeline}),
 * into a run folder. The folder also holds config.conf, run.log, run.journal (a {@code RunStarted} that lists every
 * input with its sha256, then every stage's messages) and, once every stage succeeded, submission.json
 * ({@link RunReport}).
 */
final class PipelineRun {
    static final String JOURNAL = "run.journal";
    static final String REPORT = "submission.json";
    static final String CONFIG = "config.conf";
    static final String LOG = "run.log";

    /** Where a run stops: after training, after writing the artifact, or after evaluating it. */
    enum LastStage { TRAIN, QUANTIZE, EVALUATE }

    /**
     * @param docs      a JSONL corpus to tokenize into RUN/data first, or empty to train on {@code dataset}
     * @param valTokens validate and evaluate on this many leading validation tokens only (whole windows), or all
     * @param command   the command line that started the run, for its journal
     */
    record Request(ResolvedConfig resolved, Optional<Path> docs, Path dataset, Path tokenizer, Path run, int threads,
                   Optional<Long> valTokens, LastStage lastStage, String command) {
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
        SentencePieceModel spm = SentencePieceModel.load(r.tokenizer());
        cfg.data().requireVocabMatches(spm.vocabSize(), r.tokenizer());
        if (r.docs().isEmpty() && !Files.isDirectory(r.dataset())) {
            throw new IllegalArgumentException("shard folder " + r.dataset() + " does not exist (give --data DIR with "
                    + "fineweb_{train,val}_*.bin shards, or --docs FILE to tokenize a corpus first)");
        }
        Files.createDirectories(r.run());
        String configListing = HoconListing.of(r.resolved());
        AtomicFiles.writeString(r.run().resolve(CONFIG), configListing);

        String hardware;
        List<StageFinished> finished;
        RunStages stages;
        try (PrintWriter log = new PrintWriter(Files.newBufferedWriter(r.run().resolve(LOG), StandardCharsets.UTF_8));
             MessageJournal journal = MessageJournal.create(journalFile, MessageJournal.Options.DEFAULT);
             Backend backend = Backends.open(cfg.runtime().pgolfBackend(), r.threads(), cfg.distributed().localRank())) {
            hardware = backend.name();
            Consumer<String> line = text -> {
                console.println(text);
                console.flush();
                log.println(text);
                log.flush();
            };
            RunInputs.journal(journal, RunInputs.started(r.command(), configListing, backend.name(), r.threads(),
                    r.valTokens(), inputs(r, line)));
            try (RunStages built = RunStages.of(r, configListing, backend, journal, RunSources.live(), line)) {
                stages = built;
                finished = RunPipeline.run(stages.all(), journal, r.docs().isPresent()
                        ? PreparePipeline.systemSettings(r.threads()) : Map.of(), line);
            }
        }
        List<JournalEntry> entries = JournalReader.readAll(journalFile).entries();
        RunReport.Results results = stages.results(entries.stream().map(JournalEntry::message)
                .filter(ValidationReport.class::isInstance).map(ValidationReport.class::cast).toList(), finished);
        RunReport report = RunReport.of(r.run().getFileName().toString(), results, r.resolved(), hardware,
                r.valTokens().isEmpty());
        report.write(r.run().resolve(REPORT));
        return new Outcome(report, results, journalFile, entries.size());
    }

    /**
     * The files the run reads, hashed: the documents to tokenize or the rank's training shards and every validation
     * shard, and the tokenizer.
     */
    private static List<InputFile> inputs(Request r, Consumer<String> line) throws IOException {
        long start = System.nanoTime();
        PgolfConfig cfg = r.resolved().config();
        List<InputFile> inputs = new ArrayList<>();
        if (r.docs().isPresent()) {
            inputs.add(RunInputs.hash(InputRole.DOCUMENTS, r.docs().get()));
        } else {
            inputs.addAll(RunInputs.hashAll(InputRole.TRAIN_SHARD, TrainBatchLoader.filesOfRank(
                    Shards.list(r.dataset(), "train"), cfg.distributed().rank(), cfg.distributed().worldSize())));
            inputs.addAll(RunInputs.validationShards(r.dataset()));
        }
        inputs.add(RunInputs.hash(InputRole.TOKENIZER, r.tokenizer()));
        line.accept(String.format(Locale.ROOT, "run: %d input files (%,d bytes) hashed in %.1f s",
                inputs.size(), inputs.stream().mapToLong(InputFile::bytes).sum(), (System.nanoTime() - start) / 1e9));
        return inputs;
    }
}
