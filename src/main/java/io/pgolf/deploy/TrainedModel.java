package io.pgolf.deploy;

import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.SafeTensors;
import io.pgolf.data.artifact.ArchitectureKnobs;
import io.pgolf.gpu.Backend;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Trained weights rebuilt as a model, as quantization and pre-quant TTT take them: the architecture recorded in the
 * weights' {@code pgolf.config} metadata (written by training; without it, the given configuration's), and the depth
 * loop on, as training leaves it. Owns the model.
 */
record TrainedModel(Gpt model, ArchitectureKnobs architecture) implements AutoCloseable {
    /** The metadata key under which training records its configuration in the weights file. */
    static final String CONFIG_METADATA = "pgolf.config";

    /** @param log where a file without the metadata is noted */
    static TrainedModel load(Path weightsFile, ResolvedConfig resolved, Backend backend, Consumer<String> log)
            throws IOException {
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
            // The reference calibrates (and seeds/001 adapts) the model as training left it: with the depth loop on.
            model.setLooping(layout.config().numLoops() > 0);
            return new TrainedModel(model, architecture);
        }
    }

    /** The weights' recorded architecture; without one (weights not written by pgolf train), this configuration's. */
    private static ArchitectureKnobs architectureOf(SafeTensors weights, ResolvedConfig resolved, Consumer<String> log) {
        String listing = weights.metadata().get(CONFIG_METADATA);
        if (listing == null) {
            log.accept(weights.file() + " has no " + CONFIG_METADATA
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
