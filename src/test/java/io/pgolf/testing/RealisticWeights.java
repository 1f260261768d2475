package io.pgolf.testing;

import io.pgolf.config.HoconListing;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.SafeTensorsWriter;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.Parameter;

import java.nio.file.Path;
import java.util.Random;

/**
 * A weights file as {@code pgolf train} writes it (float32, the reference's names, the configuration listing under
 * {@code pgolf.config}) for a model that was initialized as the reference does and then perturbed by Gaussian noise:
 * every weight is non-trivial (the zero-initialized projections too), as after training.
 */
public final class RealisticWeights {
    private RealisticWeights() {
    }

    /** @param noiseStd standard deviation of the noise added to every weight */
    public static void write(Path file, ResolvedConfig resolved, long seed, double noiseStd, int threads) {
        PgolfConfig cfg = resolved.config();
        GptLayout layout = new GptLayout(cfg.model(), cfg.data().vocabSize(), cfg.optimizer().tiedEmbedInitStd());
        Random noise = new Random(seed ^ 0x5DEECE66DL);
        SafeTensorsWriter writer = new SafeTensorsWriter();
        try (CpuBackend backend = new CpuBackend(threads); Gpt model = Gpt.initialized(backend, layout, seed)) {
            for (Parameter p : model.parameters()) {
                float[] values = backend.tensors().download(p.value());
                for (int i = 0; i < values.length; i++) {
                    values[i] += (float) (noise.nextGaussian() * noiseStd);
                }
                long[] shape = new long[p.shape().length];
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = p.shape()[d];
                }
                writer.addF32(p.name(), values, shape);
            }
        }
        writer.metadata("pgolf.config", HoconListing.of(resolved));
        writer.write(file);
    }
}
