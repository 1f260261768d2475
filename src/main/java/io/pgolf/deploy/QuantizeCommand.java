package io.pgolf.deploy;

import io.pgolf.actors.BatchSource;
import io.pgolf.actors.QuantizePipeline;
import io.pgolf.config.ConfigOptions;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.artifact.CodeBytes;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Backends;
import io.pgolf.protocol.ArtifactRefused;
import io.pgolf.protocol.ArtifactWritten;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.QuantizationDone;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code pgolf quantize}: trained weights -> Hessians over GPTQ_CALIBRATION_BATCHES training batches -> GPTQ ->
 * byte shuffle and compression -> the artifact, written only if model bytes + code bytes fit the budget. The model's
 * architecture comes from the weights' {@code pgolf.config} metadata (written by {@code pgolf train}); quantization,
 * batch and data knobs from this command's configuration.
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "GPTQ trained weights and write the compressed artifact, if it fits the size budget (CPU).")
public final class QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions config;

    @Option(names = "--weights", paramLabel = "FILE", required = true,
            description = "trained weights (safetensors, the reference's names), e.g. RUN/final_model.safetensors")
    Path weightsFile;

    @Option(names = "--data", paramLabel = "DIR",
            description = "folder of fineweb_train_*.bin shards for calibration (default: DATA_DIR/datasets/fineweb10B_sp{VOCAB_SIZE})")
    Path data;

    @Option(names = "--out", paramLabel = "FILE", description = "the artifact (default: final_model.artifact beside the weights)")
    Path out;

    @Option(names = "--threads", description = "CPU threads for the backend and GPTQ (default: the number of cores)")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        ResolvedConfig resolved = config.resolve(System.getenv());
        PgolfConfig cfg = resolved.config();
        PrintWriter console = spec.commandLine().getOut();
        Consumer<String> log = line -> {
            console.println(line);
            console.flush();
        };
        Path artifactFile = (out != null ? out : weightsFile.resolveSibling("final_model.artifact")).toAbsolutePath();
        Files.createDirectories(artifactFile.getParent());
        int workers = threads != null ? threads : Runtime.getRuntime().availableProcessors();

        // Each run's events follow the previous runs' in the folder's journal.
        Path journalFile = artifactFile.resolveSibling("quantize.journal");
        QuantizePipeline.Outcome outcome;
        long parameters;
        CodeBytes code;
        try (Backend backend = Backends.open(cfg.runtime().pgolfBackend(), workers, cfg.distributed().localRank());
             Quantization quantization = Quantization.load(weightsFile, resolved, backend, artifactFile, workers,
                     log);
             MessageJournal journal = Files.exists(journalFile)
                     ? MessageJournal.openForAppend(journalFile, MessageJournal.Options.DEFAULT)
                     : MessageJournal.create(journalFile, MessageJournal.Options.DEFAULT)) {
            parameters = quantization.model().parameters().elementCount();
            code = quantization.code();
            outcome = QuantizePipeline.run(quantization.settings(journal,
                    BatchSource.shards(data != null ? data : cfg.data().datasetDir())));
        }
        return switch (outcome.artifact()) {
            case ArtifactWritten written -> {
                printStages(console, parameters, outcome.quantization(), written, code);
                yield 0;
            }
            case ArtifactRefused refused -> {
                spec.commandLine().getErr().println("pgolf quantize: " + refused.reason());
                yield 1;
            }
            default -> throw new IllegalStateException("unexpected outcome " + outcome.artifact());
        };
    }

    private static void printStages(PrintWriter out, long parameters, QuantizationDone q, ArtifactWritten w, CodeBytes code) {
        String bytes = "  %-36s %,14d bytes%n";
        String seconds = "  %-36s %14s       %8.1f s%n";
        String both = "  %-36s %,14d bytes %8.1f s%n";
        out.printf(Locale.ROOT, "pgolf quantize: stages%n");
        out.printf(Locale.ROOT, bytes, "trained weights (float32)", 4 * parameters);
        out.printf(Locale.ROOT, seconds, "Hessians (" + q.calibrationBatches() + " batches)", "", q.hessianSeconds());
        out.printf(Locale.ROOT, seconds, "GPTQ (" + q.gptqTensors() + " matrices, " + q.float16Tensors() + " float16)",
                "", q.gptqSeconds());
        out.printf(Locale.ROOT, both, "serialized and shuffled", w.serializedBytes(), w.serializeSeconds());
        out.printf(Locale.ROOT, both, "compressed: the artifact (" + w.compressor() + ")", w.modelBytes(), w.compressSeconds());
        out.printf(Locale.ROOT, seconds, "written", "", w.writeSeconds());
        out.printf(Locale.ROOT, bytes, "code (" + code.classes() + " classes, " + w.compressor() + ")", w.codeBytes());
        out.printf(Locale.ROOT, "  %-36s %,14d bytes of %,d%n", "total", w.totalBytes(), w.budgetBytes());
        out.printf("pgolf quantize: artifact %s%n", w.file());
        out.flush();
    }
}
