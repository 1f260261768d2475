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
import static org.junit.jupiter.api.Assertions.assertTrue;

class GradientClippingTest {
    /** Gradients (3, 4) and (12): global norm 13. */
    private static ParameterSet params(CpuBackend backend) {
        ParameterSet params = new ParameterSet(backend);
        setGrad(backend, params.add("a", new float[2], 2), new float[]{3, 4});
        setGrad(backend, params.add("b", new float[1], 1), new float[]{12});
        return params;
    }

    @Test
    void scalesAllGradientsByTheGlobalNormCoefficient() {
        try (CpuBackend backend = new CpuBackend(1); ParameterSet params = params(backend);
             GradientClipping clipping = new GradientClipping(params)) {
            clipping.clip(6.5);
            assertEquals(13.0, clipping.norm(), 1e-12);
            double coefficient = 6.5 / (13.0 + 1e-6);
            assertArrayEquals(new float[]{(float) (3 * coefficient), (float) (4 * coefficient)},
                    backend.tensors().download(params.get("a").grad()), 1e-6f);
            assertArrayEquals(new float[]{(float) (12 * coefficient)},
                    backend.tensors().download(params.get("b").grad()), 1e-6f);
        }
    }

    @Test
    void leavesGradientsBelowTheLimitAlone() {
        try (CpuBackend backend = new CpuBackend(1); ParameterSet params = params(backend);
             GradientClipping clipping = new GradientClipping(params)) {
            clipping.clip(13.0001);
            assertEquals(13.0, clipping.norm(), 1e-12);
            assertArrayEquals(new float[]{3, 4}, backend.tensors().download(params.get("a").grad()));
            assertArrayEquals(new float[]{12}, backend.tensors().download(params.get("b").grad()));
        }
    }

    @Test
    void measuringLeavesTheGradientsAlone() {
        try (CpuBackend backend = new CpuBackend(1); ParameterSet params = params(backend);
             GradientClipping clipping = new GradientClipping(params)) {
            clipping.measure();
            assertEquals(13.0, clipping.norm(), 1e-12);
            assertArrayEquals(new float[]{12}, backend.tensors().download(params.get("b").grad()));
        }
    }

    @Test
    void theEpsilonKeepsAZeroNormSafeAndAlmostScalesAtTheLimit() {
        try (CpuBackend backend = new CpuBackend(1); ParameterSet params = params(backend);
             GradientClipping clipping = new GradientClipping(params)) {
            // max norm equal to the norm: the float32 coefficient (1 / (13 + 1e-6)) * 13 is just below 1, so it scales.
            clipping.clip(13.0);
            float coefficient = (1f / (13f + 1e-6f)) * 13f;
            assertTrue(coefficient < 1f, "coefficient " + coefficient);
            assertEquals(12f * coefficient, backend.tensors().download(params.get("b").grad())[0]);
            params.zeroGradients();
            clipping.clip(0.3);
            assertEquals(0.0, clipping.norm());
            assertArrayEquals(new float[]{0, 0}, backend.tensors().download(params.get("a").grad()));
            assertThrows(IllegalArgumentException.class, () -> clipping.clip(0.0));
        }
    }

    /** As in torch: a NaN norm is no error, it spreads to every gradient (and so to the loss, which shows it). */
    @Test
    void aNaNGradientMakesEveryGradientNaN() {
        try (CpuBackend backend = new CpuBackend(1); ParameterSet params = params(backend);
             GradientClipping clipping = new GradientClipping(params)) {
            setGrad(backend, params.get("b"), new float[]{Float.NaN});
            clipping.clip(0.3);
            assertTrue(Double.isNaN(clipping.norm()));
            for (float g : backend.tensors().download(params.get("a").grad())) {
                assertTrue(Float.isNaN(g), "gradient " + g);
            }
        }
    }

    private static void setGrad(CpuBackend backend, Parameter p, float[] values) {
        Tensor g = backend.tensors().upload(DType.F32, values, values.length);
        backend.tensors().copy(g, p.grad());
        g.close();
    }
}
