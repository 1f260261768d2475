package io.pgolf.model.optim;

import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Parameter;
import io.pgolf.model.ParameterSet;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ExponentialMovingAverageTest {
    @Test
    void startsAtTheWeightsAndFollowsTheRecurrenceWithoutBiasCorrection() {
        double decay = 0.997;
        float[][] weights = {{1f, -2f}, {0.5f, 4f}, {-1f, 0f}, {3f, 3f}};
        try (CpuBackend backend = new CpuBackend(1); ParameterSet params = new ParameterSet(backend)) {
            Parameter p = params.add("w", weights[0], 2);
            try (ExponentialMovingAverage ema = new ExponentialMovingAverage(params, decay)) {
                assertArrayEquals(weights[0], backend.tensors().download(ema.average("w")));
                double[] expected = {weights[0][0], weights[0][1]};
                for (int step = 1; step < weights.length; step++) {
                    set(backend, p.value(), weights[step]);
                    ema.update();
                    for (int i = 0; i < 2; i++) {
                        expected[i] = decay * expected[i] + (1 - decay) * weights[step][i];
                    }
                }
                float[] got = backend.tensors().download(ema.average("w"));
                assertEquals(expected[0], got[0], 1e-6);
                assertEquals(expected[1], got[1], 1e-6);

                ema.applyToWeights();
                assertArrayEquals(got, backend.tensors().download(p.value()));
                assertThrows(IllegalArgumentException.class, () -> ema.average("nope"));
            }
        }
    }

    @Test
    void decayMustBeAFraction() {
        try (CpuBackend backend = new CpuBackend(1); ParameterSet params = new ParameterSet(backend)) {
            assertThrows(IllegalArgumentException.class, () -> new ExponentialMovingAverage(params, 1.0));
        }
    }

    private static void set(CpuBackend backend, Tensor target, float[] values) {
        Tensor t = backend.tensors().upload(DType.F32, values, values.length);
        backend.tensors().copy(t, target);
        t.close();
    }
}
