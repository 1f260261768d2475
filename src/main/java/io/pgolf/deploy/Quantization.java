package io.pgolf.deploy;

import io.pgolf.actors.QuantizePipeline;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.SafeTensors;
import io.pgolf.data.artifact.ArchitectureKnobs;
import io.pgolf.data.artifact.ArtifactBudget;
import io.pgolf.data.artifact.CodeBytes;
import io.pgolf.data.loader.MicroBatchShape;
import io.pgolf.data.loader.TrainBatchLoader;
import io.pgolf.gpu.Backend;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.quant.ModelQuantizer;
import io.pgolf.protocol.MessageJournal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Trained weights made ready for {@link QuantizePipeline}, as {@code pgolf quantize} and a run's quantize stage do it:
 * the model rebuilt from the weights' recorded architecture (their {@code pgolf.config} metadata, written by training)
 * with the depth loop on, calibration batches from the training shards, and the budget left by the code bytes.
 * Quantization, batch and data knobs come from the given configuration. Owns the model.
 */
final class Quantization implements AutoCloseable {
    /** The metadata key under which training records its configuration in the weights file. */
    static final String CONFIG_METADATA = "pgolf.config";

    private final Gpt model;
    private final ArchitectureKnobs architecture;
    private final PgolfConfig cfg;
    private final Path dataset;
    private final Path artifactFile;
    private final int threads;
    private final CodeBytes code;
    private final Consumer<String> log;

    private Quantization(Gpt model, ArchitectureKnobs architecture, PgolfConfig cfg, Path dataset, Path artifactFile,
                         int threads, Consumer<String> log) {
        this.model = model;
        this.architecture = architecture;
        this.cfg = cfg;
        this.dataset = dataset;
        this.artifactFile = artifactFile;
        this.threads = threads;
        this.code = SubmissionCode.measure(cfg.quant().compressor());
        this.log = log;
    }

    /**
     * @param dataset      the folder of training shards to calibrate on
     * @param artifactFile where the artifact goes
     */
    static Quantization load(Path weightsFile, ResolvedConfig resolved, Backend backend, Path dataset,
                             Path artifactFile, int threads, Consumer<String> log) throws IOException {
        try (SafeTensors weights = SafeTensors.open(weightsFile)) {
            ArchitectureKnobs architecture = architectureOf(weights, resolved, log);
            GptLayout layout = architecture.layout("weights " + weightsFile);
            Gpt model = Gpt.zeros(backend, layout);
            try {
                model.parameters().loadFrom(weights, "");
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
            // The reference calibrates the model as training left it: with the depth loop on.
            model.setLooping(layout.config().numLoops() > 0);
            return new Quantization(model, architecture, resolved.config(), dataset, artifactFile, threads, log);
        }
    }

    Gpt model() {
        return model;
    }

    CodeBytes code() {
        return code;
    }

    /** The pipeline's settings; its DataLoader reads the calibration batches from a loader opened here. */
    QuantizePipeline.Settings settings(MessageJournal journal) throws IOException {
        MicroBatchShape shape = MicroBatchShape.of(cfg.train().trainBatchTokens(), cfg.distributed().worldSize(),
                cfg.train().trainSeqLen());
        TrainBatchLoader loader = TrainBatchLoader.open(dataset, cfg.distributed().rank(), shape);
        log.accept(String.format(Locale.ROOT, "quantize: %,d parameters; calibrating on %d batches of %d x %d tokens, "
                        + "loop %s", model.parameters().elementCount(), cfg.quant().gptqCalibrationBatches(), shape.rows(),
                shape.seqLen(), model.looping() ? "on" : "off"));
        return new QuantizePipeline.Settings(loader, model, new ModelQuantizer(cfg.quant(), threads),
                cfg.quant().gptqCalibrationBatches(), architecture, cfg.quant().compressor(), artifactFile,
                new ArtifactBudget(cfg.quant().artifactBudgetBytes(), code.compressedBytes()), journal, log);
    }

    /** The weights' recorded architecture; without one (weights not written by pgolf train), this configuration's. */
    private static ArchitectureKnobs architectureOf(SafeTensors weights, ResolvedConfig resolved, Consumer<String> log) {
        String listing = weights.metadata().get(CONFIG_METADATA);
        if (listing == null) {
            log.accept("quantize: " + weights.file() + " has no " + CONFIG_METADATA
                    + " metadata; the model's architecture comes from this command's configuration");
            return ArchitectureKnobs.of(resolved);
        }
        String source = "weights " + weights.file();
        ArchitectureKnobs architecture = ArchitectureKnobs.fromListing(listing, source);
        architecture.requireAgreement(resolved, source);
        return architecture;
    }

    @Override
    public void close() {
        model.close();
    }
}
