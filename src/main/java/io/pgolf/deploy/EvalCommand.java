package io.pgolf.deploy;

import io.pgolf.actors.RunPipeline;
import io.pgolf.actors.TttPipeline;
import io.pgolf.config.ConfigOptions;
import io.pgolf.config.HoconListing;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.artifact.CodeBytes;
import io.pgolf.data.artifact.LoadedArtifact;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Backends;
import io.pgolf.protocol.Evaluated;
import io.pgolf.protocol.InputFile;
import io.pgolf.protocol.InputRole;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.RunKind;
import io.pgolf.protocol.TttFinished;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code pgolf eval}: loads an artifact, rebuilds its model from the header's architecture with the dequantized
 * weights and the depth loop on (as the reference evaluates), and scores the validation tokens on the CPU as the
 * stages of one run ({@link EvaluationStages}): plain windows, sliding windows, then score-first TTT, as configured.
 * Every stage's messages go to one journal beside the artifact, after a {@code RunStarted} that lists the artifact,
 * the validation shards and the tokenizer with their sha256; {@code pgolf audit} checks it, {@code pgolf replay}
 * re-drives it.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Score an artifact's model on the validation tokens in bits per byte (CPU): plain windows, then "
                + "sliding windows if SLIDING_WINDOW_ENABLED, then score-first TTT if TTT_ENABLED; journal in "
                + "eval.journal beside the artifact.")
public final class EvalCommand implements Callable<Integer> {
    /** The journal of an evaluation, beside its artifact; each evaluation replaces the previous one's. */
    static final String JOURNAL = "eval.journal";

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions config;

    @Option(names = "--artifact", paramLabel = "FILE", required = true, description = "artifact written by pgolf quantize")
    Path artifactFile;

    @Option(names = "--data", paramLabel = "DIR",
            description = "folder of fineweb_val_*.bin shards (default: DATA_DIR/datasets/fineweb10B_sp{VOCAB_SIZE})")
    Path data;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "SentencePiece model (default: DATA_DIR/tokenizers/fineweb_{VOCAB_SIZE}_bpe.model)")
    Path tokenizer;

    @Option(names = "--threads", description = "CPU backend threads (default: the number of cores)")
    Integer threads;

    @Option(names = "--val-tokens", paramLabel = "N",
            description = "score the first N validation tokens only (whole windows; default: all). A run that sets "
                    + "it reports a bpb that is not the challenge's.")
    Long valTokens;

    @Override
    public Integer call() throws Exception {
        ResolvedConfig resolved = config.resolve(System.getenv());
        PgolfConfig cfg = resolved.config();
        if (cfg.prequantTtt().prequantTttEnabled()) {
            throw new IllegalArgumentException("PREQUANT_TTT_ENABLED is set, but pre-quant TTT trains the weights"
                    + " before GPTQ: it runs in pgolf train, between training and quantization; pgolf eval only"
                    + " evaluates an artifact");
        }
        PrintWriter out = spec.commandLine().getOut();
        Consumer<String> log = line -> {
            out.println(line);
            out.flush();
        };
        Path journalFile = artifactFile.resolveSibling(JOURNAL);
        Path partialJournal = artifactFile.resolveSibling(JOURNAL + ".partial");
        Files.deleteIfExists(partialJournal);
        Path dataset = data != null ? data : cfg.data().datasetDir();
        Path tokenizerFile = tokenizer != null ? tokenizer : cfg.data().tokenizerFile();
        int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        List<InputFile> inputs = new ArrayList<>(List.of(RunInputs.hash(InputRole.ARTIFACT, artifactFile)));
        inputs.addAll(RunInputs.validationShards(dataset));
        inputs.add(RunInputs.hash(InputRole.TOKENIZER, tokenizerFile));
        try (Backend backend = Backends.open(cfg.runtime().pgolfBackend(), workers, cfg.distributed().localRank())) {
            try (MessageJournal journal = MessageJournal.create(partialJournal, MessageJournal.Options.DEFAULT);
                 EvaluationStages stages = EvaluationStages.of(resolved, artifactFile, backend, dataset,
                         Optional.ofNullable(valTokens), tokenizerFile, () -> 0, TttPipeline::supervisor, journal,
                         log)) {
                RunInputs.journal(journal, RunInputs.started(Invocation.commandLine(spec), HoconListing.of(resolved),
                        backend.name(), workers, Optional.ofNullable(valTokens), inputs));
                RunPipeline.run(stages.all(), journal, Map.of(), log);
                print(out, stages, cfg.quant().artifactBudgetBytes());
            }
        }
        Files.move(partialJournal, journalFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        out.printf("pgolf eval: journal %s%s%n", journalFile,
                cfg.ttt().tttEnabled() ? " (check it with pgolf audit " + journalFile + ")" : "");
        out.flush();
        return 0;
    }

    private static void print(PrintWriter out, EvaluationStages stages, long budgetBytes) {
        LoadedArtifact artifact = stages.load().result().artifact();
        CodeBytes code = SubmissionCode.measure(artifact.header().compressor());
        out.printf(Locale.ROOT, "pgolf eval: %s: %,d model bytes (%s) + %,d code bytes = %,d (budget %,d); "
                        + "decompressed in %.2f s%n", artifact.file(), artifact.modelBytes(),
                artifact.header().compressor().name().toLowerCase(Locale.ROOT), code.compressedBytes(),
                artifact.modelBytes() + code.compressedBytes(), budgetBytes, artifact.decompressSeconds());
        String loop = stages.load().result().model().looping() ? "on" : "off";
        printEvaluation(out, "plain", stages.plain().result(), loop);
        stages.sliding().ifPresent(stage -> printEvaluation(out, "sliding", stage.result(), loop));
        stages.ttt().ifPresent(stage -> {
            TttFinished ttt = stage.result();
            out.printf(Locale.ROOT, "pgolf eval: ttt     val_loss %.6f val_bpb %.6f (%,d tokens, %,d bytes, %d chunks"
                            + " scored, %d trained, %s run, %.1f s)%n", ttt.valLoss(), ttt.valBpb(), ttt.tokens(),
                    ttt.bytes(), ttt.chunksScored(), ttt.chunksTrained(),
                    ttt.runKind() == RunKind.RECORD ? "record" : "non-record", ttt.seconds());
        });
    }

    private static void printEvaluation(PrintWriter out, String name, Evaluated e, String loop) {
        out.printf(Locale.ROOT, "pgolf eval: %-7s val_loss %.6f val_bpb %.6f (%,d tokens, %,d bytes, %,d windows of %d, "
                        + "stride %d, loop %s, %.1f s)%n", name, e.valLoss(), e.valBpb(), e.tokens(), e.bytes(),
                e.windows(), e.seqLen(), e.stride(), loop, e.seconds());
    }
}
