package io.pgolf.model.optim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgolf.config.OptimizerConfig;
import io.pgolf.data.SafeTensors;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.model.ParameterSet;
import io.pgolf.testing.SharedFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The tiny reference fixture: its hyperparameters, scalars and parameters. */
final class ReferenceTiny {
    private static final String INIT = "init.";

    private ReferenceTiny() {
    }

    static JsonNode json() {
        Path file = SharedFiles.file("fixtures/reference_tiny.json");
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The optimizer settings the fixture was produced with. */
    static OptimizerConfig optimizerConfig() {
        JsonNode h = json().get("hyperparameters");
        return new OptimizerConfig(h.get("min_lr").asDouble(), h.get("embed_lr").asDouble(),
                h.get("head_lr").asDouble(), h.get("tied_embed_lr").asDouble(),
                h.get("tied_embed_init_std").asDouble(), h.get("matrix_lr").asDouble(), h.get("scalar_lr").asDouble(),
                h.get("muon_momentum").asDouble(), h.get("muon_backend_steps").asInt(),
                h.get("muon_momentum_warmup_start").asDouble(), h.get("muon_momentum_warmup_steps").asInt(),
                h.get("muon_row_normalize").asBoolean(), h.get("beta1").asDouble(), h.get("beta2").asDouble(),
                h.get("adam_eps").asDouble(), h.get("grad_clip_norm").asDouble(), h.get("muon_beta2").asDouble(),
                h.get("adam_wd").asDouble(), h.get("muon_wd").asDouble(), h.get("embed_wd").asDouble(),
                h.get("ema_decay").asDouble());
    }

    static boolean tieEmbeddings() {
        return json().get("hyperparameters").get("tie_embeddings").asBoolean();
    }

    static double scalar(String name) {
        return json().get("scalars").get(name).asDouble();
    }

    /** Every {@code init.} tensor as a parameter, in the file's order. */
    static ParameterSet initialParameters(Backend backend, SafeTensors fixture) {
        ParameterSet params = new ParameterSet(backend);
        for (String key : fixture.names()) {
            if (key.startsWith(INIT)) {
                long[] shape = fixture.info(key).shape();
                int[] dims = new int[shape.length];
                for (int i = 0; i < dims.length; i++) {
                    dims[i] = Math.toIntExact(shape[i]);
                }
                params.add(key.substring(INIT.length()), fixture.floats(key), dims);
            }
        }
        return params;
    }

    /** Sets every gradient to the fixture's {@code prefix + name}. */
    static void setGradients(ParameterSet params, SafeTensors fixture, String prefix) {
        params.forEach(p -> {
            Tensor g = backend(params).tensors().upload(DType.F32, fixture.floats(prefix + p.name()), p.shape());
            backend(params).tensors().copy(g, p.grad());
            g.close();
        });
    }

    private static Backend backend(ParameterSet params) {
        return params.backend();
    }
}
