package io.pgolf.model.optim;

import io.pgolf.config.OptimizerConfig;
import io.pgolf.data.SafeTensors;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.parity.ReferenceFixture;
import io.pgolf.model.ParameterSet;
import io.pgolf.testing.SharedFiles;

/** The tiny reference fixture: its hyperparameters, scalars and parameters. */
final class ReferenceTiny {
    private static final String INIT = "init.";

    private ReferenceTiny() {
    }

    /** The optimizer settings the fixture was produced with. */
    static OptimizerConfig optimizerConfig() {
        try (ReferenceFixture fixture = fixture()) {
            return fixture.optimizerConfig();
        }
    }

    static boolean tieEmbeddings() {
        try (ReferenceFixture fixture = fixture()) {
            return fixture.tieEmbeddings();
        }
    }

    static double scalar(String name) {
        try (ReferenceFixture fixture = fixture()) {
            return fixture.scalar(name);
        }
    }

    /** The parity suite's reading of the fixture (one reading of its knobs). */
    private static ReferenceFixture fixture() {
        return ReferenceFixture.open(SharedFiles.file("fixtures"));
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
