package io.pgolf.deploy;

import io.pgolf.config.ConfigInputs;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.Profile;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.bytes.UnigramBaseline;
import io.pgolf.data.shard.Shards;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.protocol.Tokens;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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
import java.util.OptionalDouble;
import java.util.concurrent.Callable;

/**
 * {@code pgolf demo}: the whole pipeline ({@link PipelineRun}) on the corpus and tokenizer shipped inside pgolf, with
 * the {@code demo} profile, so that a fresh machine needs nothing else: tokenize, train, quantize and compress,
 * evaluate the artifact in plain and sliding windows and with score-first TTT. Writes everything under one run folder
 * and ends with the table of every stage and the unigram baseline the trained model must beat.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the whole pipeline on the embedded demo corpus (1,250 documents, vocab 1024) and print "
                + "every stage's results.")
public final class DemoCommand implements Callable<Integer> {
    private static final String RESOURCES = "/io/pgolf/demo/";

    @Spec
    CommandSpec spec;

    @Option(names = "--out", description = "run folder (default: runs/demo-<date-time>)")
    Path out;

    @Option(names = "--steps", description = "training steps (default: the demo profile's ITERATIONS)")
    Integer steps;

    @Option(names = "--val-tokens", paramLabel = "N",
            description = "validate and evaluate on the first N validation tokens only (default: all)")
    Long valTokens;

    @Option(names = "--workers", description = "tokenizer workers and CPU backend threads (default: the number of cores)")
    Integer workers;

    @Override
    public Integer call() throws Exception {
        Path run = out != null ? out : Path.of("runs", "demo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Path input = Files.createDirectories(run.resolve("input"));
        Path corpus = extract("corpus.jsonl.xz", input);
        Path tokenizer = extract("fineweb_1024_bpe.model", input);
        PrintWriter console = spec.commandLine().getOut();
        console.printf("pgolf demo: run folder %s%n", run);
        console.flush();
        int cores = workers != null ? workers : Runtime.getRuntime().availableProcessors();
        // The demo is the embedded default: its profile alone, whatever the environment holds.
        ResolvedConfig resolved = PgolfConfig.resolve(new ConfigInputs(Optional.of(Profile.DEMO), Optional.empty(),
                Map.of(), steps != null ? List.of("ITERATIONS=" + steps) : List.of()));

        Path data = run.resolve("data");
        PipelineRun.Outcome outcome = PipelineRun.run(new PipelineRun.Request(resolved, Optional.of(corpus), data,
                tokenizer, run, cores, Optional.ofNullable(valTokens), PipelineRun.LastStage.EVALUATE,
                Invocation.commandLine(spec)), console);

        SentencePieceModel model = SentencePieceModel.load(tokenizer);
        Tokens scored = PlainValidation.tokens(data, resolved.config().eval().evalSeqLen(), Optional.ofNullable(valTokens));
        BitsPerByte.Totals unigram = UnigramBaseline.fit(Shards.list(data, "train"), model.vocabSize())
                .score(scored, ByteTables.of(model, model.vocabSize()));
        console.println();
        outcome.report().print(console);
        RunReport.printRow(console, RunReport.Row.score("unigram baseline", "unigram", String.format(Locale.ROOT,
                "the training tokens' frequencies, over the same %,d validation tokens (%,d bytes): the floor a "
                        + "trained model must beat", unigram.tokens(), unigram.bytes()), unigram.meanLoss(),
                unigram.bitsPerByte(), OptionalDouble.empty()));
        console.printf("pgolf demo: %s, %s (%,d messages; pgolf audit checks it), the artifact and the log are in %s%n",
                PipelineRun.REPORT, outcome.journal().getFileName(), outcome.journalEntries(), run);
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
