package io.pgolf.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgolf.config.ModelConfig;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.cpu.CpuBackend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Central finite differences of the mean loss against the backward pass, for the paths the PyTorch fixtures do not
 * cover: parallel lanes and their merge scalar, skips without gates, an untied head, embedding projections, RoPE
 * base scaling (sequences longer than the training length). Each parameter is checked along its own gradient
 * direction and along a random direction.
 */
class GptGradientCheckTest {
    private static final int BATCH = 2;
    private static final int SEQ_LEN = 8;
    private static final int VOCAB = 37;
    private static final double STEP = 1e-2;

    private static CpuBackend backend;

    @BeforeAll
    static void open() {
        backend = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    /** 4 layers, loop over 1..2 once, lanes from layer 2: looped order 0 1 2 | 1 2 3, plain order 0 1 | 2 3. */
    private static GptLayout layout() {
        ModelConfig config = new ModelConfig(4, 2, 16, 8, 2, 1, 2.0, false, false, 30.0, 1e4, 4, SEQ_LEN / 2, true,
                2.0, 1, 1, 2, 0.5, 2);
        return new GptLayout(config, VOCAB, 0.05);
    }

    private static Gpt perturbedModel(boolean looping) {
        Gpt model = Gpt.initialized(backend, layout(), 3);
        SplittableRandom rng = new SplittableRandom(17);
        for (Parameter p : model.parameters()) {
            float[] v = backend.tensors().download(p.value());
            for (int i = 0; i < v.length; i++) {
                v[i] += (float) (0.1 * rng.nextGaussian());
            }
            upload(v, p.value());
        }
        model.setLooping(looping);
        return model;
    }

    private static void upload(float[] values, Tensor into) {
        try (Tensor t = backend.tensors().upload(DType.F32, values, into.shape())) {
            backend.tensors().copy(t, into);
        }
    }

    private static double meanLoss(Gpt model, Tensor input, Tensor target) {
        double sum = 0;
        for (float l : model.tokenLosses(input, target, BATCH, SEQ_LEN)) {
            sum += l;
        }
        return sum / (BATCH * SEQ_LEN);
    }

    /** (L(theta + h u) - L(theta - h u)) / 2h, u a unit direction in parameter p. */
    private static double numericDerivative(Gpt model, Parameter p, float[] direction, Tensor input, Tensor target) {
        float[] original = backend.tensors().download(p.value());
        float[] moved = new float[original.length];
        double[] losses = new double[2];
        for (int side = 0; side < 2; side++) {
            double sign = side == 0 ? 1 : -1;
            for (int i = 0; i < moved.length; i++) {
                moved[i] = (float) (original[i] + sign * STEP * direction[i]);
            }
            upload(moved, p.value());
            losses[side] = meanLoss(model, input, target);
        }
        upload(original, p.value());
        return (losses[0] - losses[1]) / (2 * STEP);
    }

    private static float[] unit(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += (double) x * x;
        }
        float[] u = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            u[i] = (float) (v[i] / Math.sqrt(norm));
        }
        return u;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    @ParameterizedTest(name = "looping {0}")
    @ValueSource(booleans = {false, true})
    void backwardMatchesFiniteDifferences(boolean looping) {
        SplittableRandom rng = new SplittableRandom(23);
        int[] ids = new int[BATCH * SEQ_LEN + 1];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rng.nextInt(VOCAB);
        }
        int[] inputIds = Arrays.copyOfRange(ids, 0, BATCH * SEQ_LEN);
        int[] targetIds = Arrays.copyOfRange(ids, 1, BATCH * SEQ_LEN + 1);
        List<String> failures = new ArrayList<>();
        double worst = 0;
        try (Gpt model = perturbedModel(looping);
             Tensor input = backend.tensors().uploadInts(inputIds, inputIds.length);
             Tensor target = backend.tensors().uploadInts(targetIds, targetIds.length)) {
            model.forwardBackward(input, target, BATCH, SEQ_LEN, 1f);
            Map<String, float[]> gradients = model.parameters().gradientsOnHost();
            for (Parameter p : model.parameters()) {
                float[] g = gradients.get(p.name());
                float[] random = new float[g.length];
                for (int i = 0; i < random.length; i++) {
                    random[i] = (float) rng.nextGaussian();
                }
                for (float[] direction : List.of(unit(g), unit(random))) {
                    double analytic = dot(g, direction);
                    double numeric = numericDerivative(model, p, direction, input, target);
                    double error = Math.abs(analytic - numeric);
                    double allowed = 2e-3 * Math.abs(analytic) + 2e-4;
                    worst = Math.max(worst, error / (Math.abs(analytic) + 1e-3));
                    if (!(error <= allowed)) {
                        failures.add(String.format("%s: backward %.6e, finite difference %.6e", p.name(), analytic,
                                numeric));
                    }
                }
            }
        }
        System.out.printf("gradient check (looping %s): worst error relative to the derivative %.3e%n", looping,
                worst);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }
}
