package io.pgolf.deploy;

import io.pgolf.actors.BatchSource;
import io.pgolf.actors.DataLoaderActor;
import io.pgolf.actors.QuantizePipeline;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.artifact.ArtifactBudget;
import io.pgolf.data.artifact.CodeBytes;
import io.pgolf.data.loader.MicroBatchShape;
import io.pgolf.gpu.Backend;
import io.pgolf.model.Gpt;
import io.pgolf.model.quant.ModelQuantizer;
import io.pgolf.protocol.MessageJournal;
import org.apache.pekko.actor.typed.Behavior;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Trained weights made ready for {@link QuantizePipeline}, as {@code pgolf quantize} and a run's quantize stage do it:
 * the model rebuilt from the weights ({@link TrainedModel}) and the budget left by the code bytes. Quantization and
 * batch knobs come from the given configuration. Owns the model.
 */
final class Quantization implements AutoCloseable {
    private final TrainedModel trained;
    private final PgolfConfig cfg;
    private final Path artifactFile;
    private final int threads;
    private final CodeBytes code;
    private final Consumer<String> log;

    private Quantization(TrainedModel trained, PgolfConfig cfg, Path artifactFile, int threads,
                         Consumer<String> log) {
        this.trained = trained;
        this.cfg = cfg;
        this.artifactFile = artifactFile;
        this.threads = threads;
        this.code = SubmissionCode.measure(cfg.quant().compressor());
        this.log = log;
    }

    /** @param artifactFile where the artifact goes */
    static Quantization load(Path weightsFile, ResolvedConfig resolved, Backend backend, Path artifactFile,
                             int threads, Consumer<String> log) throws IOException {
        return new Quantization(TrainedModel.load(weightsFile, resolved, backend, log), resolved.config(),
                artifactFile, threads, log);
    }

    Gpt model() {
        return trained.model();
    }

    CodeBytes code() {
        return code;
    }

    /** The pipeline's settings, with the calibration batches from {@code calibration}, opened here. */
    QuantizePipeline.Settings settings(MessageJournal journal, BatchSource calibration) throws IOException {
        MicroBatchShape shape = MicroBatchShape.of(cfg.train().trainBatchTokens(), cfg.distributed().worldSize(),
                cfg.train().trainSeqLen());
        Behavior<DataLoaderActor.Command> batches = calibration.open(cfg.distributed().rank(), shape);
        Gpt model = trained.model();
        log.accept(String.format(Locale.ROOT, "quantize: %,d parameters; calibrating on %d batches of %d x %d tokens, "
                        + "loop %s", model.parameters().elementCount(), cfg.quant().gptqCalibrationBatches(), shape.rows(),
                shape.seqLen(), model.looping() ? "on" : "off"));
        return new QuantizePipeline.Settings(batches, model, new ModelQuantizer(cfg.quant(), threads),
                cfg.quant().gptqCalibrationBatches(), trained.architecture(), cfg.quant().compressor(), artifactFile,
                new ArtifactBudget(cfg.quant().artifactBudgetBytes(), code.compressedBytes()), journal, log);
    }

    @Override
    public void close() {
        trained.close();
    }
}
