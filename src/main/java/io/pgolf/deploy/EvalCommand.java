package io.pgolf.deploy;

import io.pgolf.config.ConfigOptions;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.artifact.ArchitectureKnobs;
import io.pgolf.data.artifact.ArtifactReader;
import io.pgolf.data.artifact.CodeBytes;
import io.pgolf.data.artifact.LoadedArtifact;
import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.eval.GptScorer;
import io.pgolf.model.eval.PlainEvaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code pgolf eval}: loads an artifact, rebuilds its model from the header's architecture with the dequantized
 * weights and the depth loop on (as the reference evaluates), and scores the validation tokens in plain
 * non-overlapping windows on the CPU.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Score an artifact's model on the validation tokens in bits per byte (plain windows, CPU).")
public final class EvalCommand implements Callable<Integer> {
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
        PrintWriter out = spec.commandLine().getOut();
        LoadedArtifact artifact = ArtifactReader.read(artifactFile);
        String source = "artifact " + artifactFile;
        ArchitectureKnobs architecture = artifact.header().architecture();
        architecture.requireAgreement(resolved, source);
        GptLayout layout = architecture.layout(source);
        CodeBytes code = SubmissionCode.measure(artifact.header().compressor());
        out.printf(Locale.ROOT, "pgolf eval: %s: %,d model bytes (%s) + %,d code bytes = %,d (budget %,d); "
                        + "decompressed in %.2f s%n", artifactFile, artifact.modelBytes(),
                artifact.header().compressor().name().toLowerCase(Locale.ROOT), code.compressedBytes(),
                artifact.modelBytes() + code.compressedBytes(), cfg.quant().artifactBudgetBytes(),
                artifact.decompressSeconds());

        Path tokenizerFile = tokenizer != null ? tokenizer : cfg.data().tokenizerFile();
        SentencePieceModel spm = SentencePieceModel.load(tokenizerFile);
        if (spm.vocabSize() != layout.vocabSize()) {
            throw new IllegalArgumentException(tokenizerFile + " has " + spm.vocabSize() + " pieces, but " + source
                    + " holds a model of vocabulary " + layout.vocabSize());
        }
        PlainEvaluation validation = PlainValidation.of(data != null ? data : cfg.data().datasetDir(), cfg,
                ByteTables.of(spm, layout.vocabSize()), Optional.ofNullable(valTokens));
        try (Backend backend = new CpuBackend(threads != null ? threads : Runtime.getRuntime().availableProcessors());
             Gpt model = Gpt.zeros(backend, layout)) {
            artifact.model().loadInto(model.parameters());
            model.setLooping(layout.config().numLoops() > 0);
            long start = System.nanoTime();
            BitsPerByte.Totals totals = validation.run(new GptScorer(model));
            out.printf(Locale.ROOT, "pgolf eval: val_loss %.6f val_bpb %.6f (%,d tokens, %,d bytes, %d windows, "
                            + "loop %s, %.1f s)%n", totals.meanLoss(), totals.bitsPerByte(), totals.tokens(),
                    totals.bytes(), validation.windows(), model.looping() ? "on" : "off", (System.nanoTime() - start) / 1e9);
        }
        out.flush();
        return 0;
    }
}
