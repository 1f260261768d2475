package io.pgolf.model.optim;

import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Parameter;
import io.pgolf.model.ParameterSet;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AdamWTest {
    private static final double LR = 0.03;
    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.95;
    private static final double EPS = 1e-8;
    private static final double WD = 0.085;

    /** torch.optim.AdamW's documented algorithm in float64, for one element over successive gradients. */
    private static double torchAdamW(double p, double lr, double... grads) {
        double m = 0;
        double v = 0;
        for (int t = 1; t <= grads.length; t++) {
            double g = grads[t - 1];
            p *= 1 - lr * WD;
            m = BETA1 * m + (1 - BETA1) * g;
            v = BETA2 * v + (1 - BETA2) * g * g;
            double mHat = m / (1 - Math.pow(BETA1, t));
            double vHat = v / (1 - Math.pow(BETA2, t));
            p -= lr * mHat / (Math.sqrt(vHat) + EPS);
        }
        return p;
    }

    @Test
    void twoStepsFollowTorchAdamW() {
        float[] initial = {0.5f, -1.25f, 2f, 0f, 1e-3f};
        float[] grad1 = {0.1f, -0.2f, 3f, 1e-9f, -0.5f};
        float[] grad2 = {-0.3f, -0.1f, 2f, 0f, 0.25f};
        double lrMultiplier = 0.5;
        try (CpuBackend backend = new CpuBackend(1); ParameterSet params = new ParameterSet(backend)) {
            Parameter p = params.add("w", initial, initial.length);
            try (AdamW adam = new AdamW(backend, List.of(p), LR, BETA1, BETA2, EPS, WD)) {
                setGrad(backend, p, grad1);
                adam.step(lrMultiplier);
                setGrad(backend, p, grad2);
                adam.step(lrMultiplier);
                assertEquals(2, adam.steps());
            }
            float[] got = backend.tensors().download(p.value());
            for (int i = 0; i < initial.length; i++) {
                double expected = torchAdamW(initial[i], LR * lrMultiplier, grad1[i], grad2[i]);
                assertEquals(expected, got[i], 1e-6 * Math.max(1, Math.abs(expected)), "element " + i);
            }
        }
    }

    @Test
    void resetStartsBiasCorrectionAndMomentsOver() {
        float[] initial = {0.5f, -1.25f, 2f};
        float[] grad1 = {0.1f, -0.2f, 3f};
        float[] grad2 = {-0.3f, 0.7f, 2f};
        try (CpuBackend backend = new CpuBackend(1); ParameterSet params = new ParameterSet(backend)) {
            Parameter p = params.add("w", initial, initial.length);
            try (AdamW adam = new AdamW(backend, List.of(p), LR, BETA1, BETA2, EPS, WD)) {
                setGrad(backend, p, grad1);
                adam.step(1.0);
                Tensor restored = backend.tensors().upload(DType.F32, initial, initial.length);
                backend.tensors().copy(restored, p.value());
                adam.reset();
                assertEquals(0, adam.steps());
                setGrad(backend, p, grad2);
                adam.step(1.0);
            }
            float[] got = backend.tensors().download(p.value());
            for (int i = 0; i < initial.length; i++) {
                double expected = torchAdamW(initial[i], LR, grad2[i]);
                assertEquals(expected, got[i], 1e-6 * Math.max(1, Math.abs(expected)), "element " + i);
            }
        }
    }

    private static void setGrad(CpuBackend backend, Parameter p, float[] values) {
        Tensor g = backend.tensors().upload(DType.F32, values, values.length);
        backend.tensors().copy(g, p.grad());
        g.close();
    }
}
