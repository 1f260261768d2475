package io.pgolf.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgolf.gpu.cpu.CpuBackend;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Initialization statistics of the tiny reference layout: which tensors are what, and drawn how. */
class GptInitTest {
    private static final long SEED = 1337;

    private static Map<String, float[]> initialValues(GptLayout layout, long seed) {
        try (CpuBackend backend = new CpuBackend(1); Gpt model = Gpt.initialized(backend, layout, seed)) {
            return model.parameters().valuesOnHost();
        }
    }

    @Test
    void everyParameterFollowsTheReferencesInitialization() {
        GptLayout layout = TinyReference.load().layout();
        Map<String, float[]> values = initialValues(layout, SEED);
        int d = layout.config().modelDim();
        for (ParameterSpec spec : layout.parameters()) {
            float[] v = values.get(spec.name());
            String name = spec.name();
            int[] shape = spec.shape();
            if (name.endsWith("attn.proj.weight") || name.endsWith("mlp.proj.weight") || name.equals("skip_gates")) {
                assertAll(v, 0f, name);
            } else if (name.endsWith("_scale") || name.equals("skip_weights")) {
                assertAll(v, 1f, name);
            } else if (name.endsWith("q_gain")) {
                assertAll(v, (float) layout.config().qkGainInit(), name);
            } else if (name.endsWith("resid_mix")) {
                assertAll(Arrays.copyOfRange(v, 0, d), 1f, name + " row 0");
                assertAll(Arrays.copyOfRange(v, d, 2 * d), 0f, name + " row 1");
            } else if (name.equals("tok_emb.weight")) {
                assertNormal(v, layout.tiedEmbedInitStd(), name);
            } else if (shape[0] >= 64 && shape[1] >= 64) {
                assertOrthonormal(v, shape[0], shape[1], name);
            } else {
                assertLinearDefault(v, shape[1], name);
            }
        }
    }

    @Test
    void theSeedDeterminesTheValues() {
        GptLayout layout = TinyReference.load().layout();
        Map<String, float[]> first = initialValues(layout, SEED);
        Map<String, float[]> again = initialValues(layout, SEED);
        Map<String, float[]> other = initialValues(layout, SEED + 1);
        for (String name : List.of("tok_emb.weight", "blocks.0.attn.c_q.weight", "blocks.4.attn.c_k.weight")) {
            assertArrayEquals(first.get(name), again.get(name), name);
            assertFalse(Arrays.equals(first.get(name), other.get(name)), name);
        }
    }

    /** nn.init.orthogonal_'s shapes: orthonormal columns when tall, orthonormal rows when wide. */
    @Test
    void orthogonalMatricesOfEveryShape() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int[] shape : List.of(new int[] {512, 512}, new int[] {2048, 512}, new int[] {256, 512},
                new int[] {64, 64})) {
            assertOrthonormal(Orthogonal.matrix(shape[0], shape[1], rng), shape[0], shape[1],
                    Arrays.toString(shape));
        }
    }

    private static void assertAll(float[] values, float expected, String name) {
        for (float v : values) {
            assertEquals(expected, v, name);
        }
    }

    /** Gram matrix of the shorter side equals the identity to float32 rounding. */
    private static void assertOrthonormal(float[] w, int rows, int cols, String name) {
        boolean tall = rows >= cols;
        int k = tall ? cols : rows;
        int len = tall ? rows : cols;
        double worst = 0;
        for (int a = 0; a < k; a++) {
            for (int b = a; b < k; b++) {
                double dot = 0;
                for (int i = 0; i < len; i++) {
                    dot += tall ? (double) w[i * cols + a] * w[i * cols + b] : (double) w[a * cols + i] * w[b * cols + i];
                }
                worst = Math.max(worst, Math.abs(dot - (a == b ? 1 : 0)));
            }
        }
        assertTrue(worst < 1e-5, name + ": largest deviation of the Gram matrix from I is " + worst);
    }

    /** Mean and standard deviation within 5 standard errors of N(0, std^2). */
    private static void assertNormal(float[] v, double std, String name) {
        double sum = 0;
        double squares = 0;
        for (float x : v) {
            sum += x;
            squares += (double) x * x;
        }
        double mean = sum / v.length;
        double sampleStd = Math.sqrt(squares / v.length - mean * mean);
        assertEquals(0, mean, 5 * std / Math.sqrt(v.length), name + " mean");
        assertEquals(std, sampleStd, 5 * std / Math.sqrt(2.0 * v.length), name + " std");
    }

    /** U(-1/sqrt(in), 1/sqrt(in)): inside the bound, variance bound^2 / 3 within 5 standard errors. */
    private static void assertLinearDefault(float[] v, int fanIn, String name) {
        double bound = 1 / Math.sqrt(fanIn);
        double squares = 0;
        for (float x : v) {
            assertTrue(Math.abs(x) <= bound, name + " value " + x + " outside +-" + bound);
            squares += (double) x * x;
        }
        double variance = bound * bound / 3;
        // Var(x^2) of U(-b, b) is b^4 (1/5 - 1/9).
        double standardError = bound * bound * Math.sqrt((1.0 / 5 - 1.0 / 9) / v.length);
        assertEquals(variance, squares / v.length, 5 * standardError, name + " variance");
    }
}
