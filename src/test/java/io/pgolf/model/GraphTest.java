package io.pgolf.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.cpu.CpuBackend;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The graph's own compositions (linear, stacked linear, row selection, lane merge) and its bookkeeping, against plain-loop
 * arithmetic. The upstream gradient R is planted directly into the output's gradient.
 */
class GraphTest {
    private static final float TOLERANCE = 1e-5f;

    private CpuBackend backend;
    private ParameterSet parameters;
    private final SplittableRandom rng = new SplittableRandom(11);

    @BeforeEach
    void open() {
        backend = new CpuBackend(2);
        parameters = new ParameterSet(backend);
    }

    @AfterEach
    void close() {
        parameters.close();
        backend.close();
    }

    private float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return v;
    }

    private void plantGradient(Var out, float[] upstream) {
        try (Tensor r = backend.tensors().upload(DType.F32, upstream, out.shape())) {
            backend.tensors().copy(r, out.grad());
        }
    }

    @Test
    void linearIsXTimesWeightTransposedWithBothGradients() {
        int n = 5;
        int in = 7;
        int out = 3;
        float[] x = random(n * in);
        float[] w = random(out * in);
        float[] r = random(n * out);
        Parameter xp = parameters.add("x", x, n, in);
        Parameter wp = parameters.add("w", w, out, in);
        try (Graph g = Graph.training(backend)) {
            Var y = g.linear(g.parameter(xp), g.parameter(wp));
            float[] expected = new float[n * out];
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < out; o++) {
                    for (int k = 0; k < in; k++) {
                        expected[i * out + o] += x[i * in + k] * w[o * in + k];
                    }
                }
            }
            assertArrayEquals(expected, backend.tensors().download(y.value()), TOLERANCE);
            plantGradient(y, r);
            g.backward();
        }
        float[] dx = new float[n * in];
        float[] dw = new float[out * in];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                for (int k = 0; k < in; k++) {
                    dx[i * in + k] += r[i * out + o] * w[o * in + k];
                    dw[o * in + k] += r[i * out + o] * x[i * in + k];
                }
            }
        }
        assertArrayEquals(dx, backend.tensors().download(xp.grad()), TOLERANCE);
        assertArrayEquals(dw, backend.tensors().download(wp.grad()), TOLERANCE);
    }

    /**
     * Three weights stacked: the output is the three linears' side by side, and over two graphs each weight's
     * gradient collects its own column block of the upstream gradient twice.
     */
    @Test
    void stackedLinearIsTheLinearsOfItsWeightsSideBySide() {
        int n = 5;
        int in = 7;
        int[] outs = {4, 2, 3};
        int width = 9;
        float[] x = random(n * in);
        float[] r = random(n * width);
        Parameter xp = parameters.add("x", x, n, in);
        float[][] ws = new float[outs.length][];
        Parameter[] wps = new Parameter[outs.length];
        for (int j = 0; j < outs.length; j++) {
            ws[j] = random(outs[j] * in);
            wps[j] = parameters.add("w" + j, ws[j], outs[j], in);
        }
        for (int pass = 0; pass < 2; pass++) {
            try (Graph g = Graph.training(backend)) {
                Var y = g.stackedLinear(g.parameter(xp),
                        Arrays.stream(wps).map(g::parameter).toList());
                float[] expected = new float[n * width];
                for (int i = 0; i < n; i++) {
                    int column = 0;
                    for (int j = 0; j < outs.length; j++) {
                        for (int o = 0; o < outs[j]; o++, column++) {
                            for (int k = 0; k < in; k++) {
                                expected[i * width + column] += x[i * in + k] * ws[j][o * in + k];
                            }
                        }
                    }
                }
                assertArrayEquals(expected, backend.tensors().download(y.value()), TOLERANCE);
                plantGradient(y, r);
                g.backward();
            }
        }
        float[] dx = new float[n * in];
        float[][] dws = new float[outs.length][];
        int column = 0;
        for (int j = 0; j < outs.length; j++) {
            dws[j] = new float[outs[j] * in];
            for (int o = 0; o < outs[j]; o++, column++) {
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < in; k++) {
                        dx[i * in + k] += 2 * r[i * width + column] * ws[j][o * in + k];
                        dws[j][o * in + k] += 2 * r[i * width + column] * x[i * in + k];
                    }
                }
            }
        }
        assertArrayEquals(dx, backend.tensors().download(xp.grad()), TOLERANCE);
        for (int j = 0; j < outs.length; j++) {
            assertArrayEquals(dws[j], backend.tensors().download(wps[j].grad()), TOLERANCE, "w" + j);
        }
    }

    @Test
    void rowSelectsOneRowAndScattersItsGradientBack() {
        float[] m = random(4 * 6);
        float[] r = random(6);
        Parameter mp = parameters.add("m", m, 4, 6);
        try (Graph g = Graph.training(backend)) {
            Var row = g.row(g.parameter(mp), 2);
            assertArrayEquals(Arrays.copyOfRange(m, 12, 18), backend.tensors().download(row.value()));
            plantGradient(row, r);
            g.backward();
            assertThrows(IndexOutOfBoundsException.class, () -> g.row(g.parameter(mp), 4));
        }
        float[] expected = new float[24];
        System.arraycopy(r, 0, expected, 12, 6);
        assertArrayEquals(expected, backend.tensors().download(mp.grad()));
    }

    @Test
    void laneMergeWeighsTwoLanesByAScalarAndDifferentiatesTheScalar() {
        int n = 3;
        int d = 5;
        float[] a = random(n * d);
        float[] b = random(n * d);
        float[] r = random(n * d);
        float w = 0.3f;
        Parameter ap = parameters.add("a", a, n, d);
        Parameter bp = parameters.add("b", b, n, d);
        Parameter wp = parameters.add("lane_merge", new float[] {w});
        try (Graph g = Graph.training(backend)) {
            Var merged = g.laneMerge(g.parameter(ap), g.parameter(bp), g.parameter(wp));
            float[] expected = new float[n * d];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = w * a[i] + (1 - w) * b[i];
            }
            assertArrayEquals(expected, backend.tensors().download(merged.value()), TOLERANCE);
            plantGradient(merged, r);
            g.backward();
        }
        float[] da = new float[n * d];
        float[] db = new float[n * d];
        double dw = 0;
        for (int i = 0; i < r.length; i++) {
            da[i] = w * r[i];
            db[i] = (1 - w) * r[i];
            dw += (double) (a[i] - b[i]) * r[i];
        }
        assertArrayEquals(da, backend.tensors().download(ap.grad()), TOLERANCE);
        assertArrayEquals(db, backend.tensors().download(bp.grad()), TOLERANCE);
        assertEquals(dw, backend.tensors().download(wp.grad())[0], 1e-5);
    }

    /** A value read twice collects both gradients, and a second graph adds to the parameter's gradient again. */
    @Test
    void gradientsAccumulateOverUsesAndGraphs() {
        float[] a = random(8);
        float[] r = random(8);
        Parameter ap = parameters.add("a", a, 2, 4);
        Parameter wp = parameters.add("lane_merge", new float[] {0.8f});
        for (int pass = 0; pass < 2; pass++) {
            try (Graph g = Graph.training(backend)) {
                Var av = g.parameter(ap);
                Var merged = g.laneMerge(av, av, g.parameter(wp));
                plantGradient(merged, r);
                g.backward();
            }
        }
        float[] twice = new float[8];
        for (int i = 0; i < 8; i++) {
            twice[i] = 2 * r[i];
        }
        assertArrayEquals(twice, backend.tensors().download(ap.grad()), TOLERANCE);
        assertEquals(0f, backend.tensors().download(wp.grad())[0], TOLERANCE);
    }

    @Test
    void backwardRunsOnceAndNeverOnAnInferenceGraph() {
        Parameter ap = parameters.add("a", random(4), 1, 4);
        Parameter wp = parameters.add("w", random(8), 2, 4);
        try (Graph g = Graph.training(backend)) {
            plantGradient(g.linear(g.parameter(ap), g.parameter(wp)), random(2));
            g.backward();
            assertThrows(IllegalStateException.class, g::backward);
        }
        try (Graph g = Graph.inference(backend)) {
            g.linear(g.parameter(ap), g.parameter(wp));
            assertThrows(IllegalStateException.class, g::backward);
        }
    }
}
