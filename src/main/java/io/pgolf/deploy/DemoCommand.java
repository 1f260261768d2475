package io.pgolf.deploy;

import io.pgolf.config.ConfigInputs;
import io.pgolf.config.DataConfig;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.Profile;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.bytes.UnigramBaseline;
import io.pgolf.data.shard.Shards;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TrainingFinished;
import io.pgolf.protocol.ValidationReport;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code pgolf demo}: the pipeline as far as it exists, on the corpus and tokenizer shipped inside pgolf, so that a
 * fresh machine needs nothing else. Writes everything under one run folder and ends with a table of results.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the pipeline on the embedded demo corpus (1,250 documents, vocab 1024) and print its results.")
public final class DemoCommand implements Callable<Integer> {
    private static final String RESOURCES = "/io/pgolf/demo/";

    @Spec
    CommandSpec spec;

    @Option(names = "--out", description = "run folder (default: runs/demo-<date-time>)")
    Path out;

    @Option(names = "--steps", description = "training steps (default: the demo profile's ITERATIONS)")
    Integer steps;

    @Option(names = "--val-tokens", paramLabel = "N",
            description = "validate the trained model on the first N validation tokens only (default: all)")
    Long valTokens;

    @Option(names = "--workers", description = "tokenizer workers and CPU backend threads (default: the number of cores)")
    Integer workers;

    @Override
    public Integer call() throws Exception {
        Path run = out != null ? out : Path.of("runs", "demo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Path input = Files.createDirectories(run.resolve("input"));
        Path corpus = extract("corpus.jsonl.xz", input);
        Path tokenizer = extract("fineweb_1024_bpe.model", input);
        Path data = run.resolve("data");
        PrintWriter console = spec.commandLine().getOut();
        console.printf("pgolf demo: run folder %s%n", run);
        console.flush();
        int cores = workers != null ? workers : Runtime.getRuntime().availableProcessors();
        // The demo is the embedded default: its profile alone, whatever the environment holds.
        ResolvedConfig resolved = PgolfConfig.resolve(new ConfigInputs(Optional.of(Profile.DEMO), Optional.empty(),
                Map.of(), steps != null ? List.of("ITERATIONS=" + steps) : List.of()));
        DataConfig dataConfig = resolved.config().data();

        PrepareCommand.Prepared prepared = PrepareCommand.prepare(corpus, tokenizer, Optional.of(dataConfig), data,
                dataConfig.numValDocs(), dataConfig.shardTokens(), cores);
        SentencePieceModel model = SentencePieceModel.load(tokenizer);
        ByteTables tables = ByteTables.of(model, model.vocabSize());
        Tokens val = Shards.validationTokens(data, resolved.config().eval().evalSeqLen());
        BitsPerByte.Totals unigram = UnigramBaseline.fit(Shards.list(data, "train"), model.vocabSize()).score(val, tables);

        PipelineRun.Outcome trained = PipelineRun.run(new PipelineRun.Request(resolved, Optional.empty(), data, tokenizer,
                run, cores, Optional.ofNullable(valTokens), PipelineRun.LastStage.TRAIN), console);
        List<ValidationReport> validations = trained.results().validations();
        ValidationReport live = validations.get(validations.size() - 2);
        ValidationReport ema = validations.getLast();
        TrainingFinished finished = trained.results().training();

        console.printf(Locale.ROOT, "%n%-18s %s%n", "stage", "result");
        console.printf(Locale.ROOT, "%-18s %,d docs, %.2f MB text -> %,d val + %,d train tokens in %d shards (%.1f s, %.2f MB/s)%n",
                "prepare", prepared.documents(), prepared.textBytes() / 1e6, prepared.valTokens(), prepared.trainTokens(),
                prepared.shards(), prepared.seconds(), prepared.textBytes() / 1e6 / prepared.seconds());
        console.printf(Locale.ROOT, "%-18s %,d scored val tokens, %,d bytes (%.3f bytes/token)%n",
                "byte accounting", unigram.tokens(), unigram.bytes(), (double) unigram.bytes() / unigram.tokens());
        console.printf(Locale.ROOT, "%-18s val_loss %.4f  val_bpb %.4f%n", "unigram baseline", unigram.meanLoss(), unigram.bitsPerByte());
        console.printf(Locale.ROOT, "%-18s %d steps, %,d tokens in %.1f s (%,.0f tokens/s)%n", "training",
                finished.steps(), finished.tokensSeen(), finished.trainSeconds(), finished.tokensSeen() / finished.trainSeconds());
        console.printf(Locale.ROOT, "%-18s val_loss %.4f  val_bpb %.4f%n", "trained", live.valLoss(), live.valBpb());
        console.printf(Locale.ROOT, "%-18s val_loss %.4f  val_bpb %.4f%n", "trained, post-EMA", ema.valLoss(), ema.valBpb());
        console.printf(Locale.ROOT, "%-18s %s: %,d messages%n", "journal", trained.journal(), trained.journalEntries());
        console.println("Quantization, sliding-window evaluation and test-time training join this pipeline in the next issues.");
        console.flush();
        return 0;
    }

    private static Path extract(String name, Path dir) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = DemoCommand.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("embedded demo file " + RESOURCES + name + " is missing from the pgolf jar");
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }
}
