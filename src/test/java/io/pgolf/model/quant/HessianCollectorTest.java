package io.pgolf.model.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgolf.data.SafeTensors;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.TinyReference;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TrainBatch;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Calibration on the tiny reference model and its 2 x 32 fixture tokens (depth loop on, as the reference calibrates). */
class HessianCollectorTest {
    private static final String FIRST_QUERY = "blocks.0.attn.c_q.weight";
    private static final String LOOPED_FC = "blocks.1.mlp.fc.weight";
    private static final String EMBEDDING = "tok_emb.weight";

    private static SafeTensors fixture;
    private static CpuBackend backend;
    private static int rows;
    private static int seqLen;

    @BeforeAll
    static void open() {
        fixture = SafeTensors.open(TinyReference.tensors());
        backend = new CpuBackend(2);
        long[] shape = fixture.info("input_ids").shape();
        rows = (int) shape[0];
        seqLen = (int) shape[1];
    }

    @AfterAll
    static void close() {
        backend.close();
        fixture.close();
    }

    private static Gpt referenceModel() {
        Gpt model = Gpt.zeros(backend, TinyReference.load().layout());
        model.parameters().loadFrom(fixture, "init.");
        model.setLooping(true);
        return model;
    }

    /** The fixture's batch as a TrainBatch: each row's window is its inputs plus its last target. */
    private static TrainBatch fixtureBatch(long index) {
        int[] inputs = fixture.ints("input_ids");
        int[] targets = fixture.ints("target_ids");
        int[] windows = new int[rows * (seqLen + 1)];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(inputs, r * seqLen, windows, r * (seqLen + 1), seqLen);
            windows[r * (seqLen + 1) + seqLen] = targets[r * seqLen + seqLen - 1];
        }
        return new TrainBatch(index, 0, rows, seqLen, Tokens.of(windows));
    }

    @Test
    void hessianIsTheGramMatrixOfTheRecomputedLayerInput() {
        try (Gpt model = referenceModel()) {
            Hessians hessians = HessianCollector.collect(model, List.of(fixtureBatch(0)), List.of(FIRST_QUERY));
            float[] input = firstBlockAttentionInput(model);
            int d = model.layout().config().modelDim();
            double[] gram = new double[d * d];
            int n = rows * seqLen;
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < d; i++) {
                    for (int j = 0; j < d; j++) {
                        gram[i * d + j] += (double) input[t * d + i] * input[t * d + j];
                    }
                }
            }
            Hessian h = hessians.get(FIRST_QUERY);
            assertEquals(d, h.dim());
            assertEquals(1, hessians.batches());
            double worst = worstScaledDifference(h.values(), gram, d);
            System.out.printf("Hessian of %s vs X^T X in float64: worst scaled difference %.2e%n", FIRST_QUERY, worst);
            assertTrue(worst < 1e-5, "worst scaled difference " + worst);
        }
    }

    /** rms_norm(resid_mix[0] x0 + resid_mix[1] x0) / sqrt(1) with x0 = rms_norm(tok_emb[ids]), by backend ops. */
    private static float[] firstBlockAttentionInput(Gpt model) {
        GptLayout layout = model.layout();
        int n = rows * seqLen;
        int d = layout.config().modelDim();
        float eps = backend.normEpsilon();
        try (Tensor ids = backend.tensors().uploadInts(fixture.ints("input_ids"), n);
             Tensor embedded = backend.tensors().zeros(DType.F32, n, d);
             Tensor x0 = backend.tensors().zeros(DType.F32, n, d);
             Tensor mixed = backend.tensors().zeros(DType.F32, n, d);
             Tensor normed = backend.tensors().zeros(DType.F32, n, d);
             Tensor invRms = backend.tensors().zeros(DType.F32, n)) {
            backend.layers().embedding(ids, model.parameters().get(EMBEDDING).value(), embedded);
            backend.layers().rmsNorm(embedded, 1f, eps, x0, invRms);
            backend.layers().residualMix(x0, x0, model.parameters().get("blocks.0.resid_mix").value(), mixed);
            backend.layers().rmsNorm(mixed, layout.normScale(0), eps, normed, invRms);
            return backend.tensors().download(normed);
        }
    }

    /**
     * q, k and v read one input and share its product; the next weight (the MLP's fc) reads another and must get
     * its own: every Hessian collected together equals, bit for bit, the one collected alone.
     */
    @Test
    void weightsOfOneInputShareItsProductAndNoOtherWeightGetsIt() {
        List<String> names = List.of(FIRST_QUERY, "blocks.0.attn.c_k.weight", "blocks.0.attn.c_v.weight",
                "blocks.0.mlp.fc.weight");
        try (Gpt model = referenceModel()) {
            List<TrainBatch> batches = List.of(fixtureBatch(0), fixtureBatch(1));
            Hessians together = HessianCollector.collect(model, batches, names);
            for (String name : names) {
                Hessians alone = HessianCollector.collect(model, batches, List.of(name));
                assertArrayEquals(alone.get(name).values(), together.get(name).values(), name);
            }
            assertArrayEquals(together.get(FIRST_QUERY).values(), together.get("blocks.0.attn.c_v.weight").values());
        }
    }

    @Test
    void everyRunOfALoopedLayerAndTheHeadInputAddUp() {
        Map<String, Double> squares = new HashMap<>();
        try (Gpt model = referenceModel();
             Tensor ids = backend.tensors().uploadInts(fixture.ints("input_ids"), rows * seqLen)) {
            model.observeLinearInputs(ids, rows, seqLen,
                    (weight, input) -> squares.merge(weight.name(), backend.tensors().sumOfSquares(input), Double::sum));
            Hessians hessians = HessianCollector.collect(model, List.of(fixtureBatch(0)), List.of(LOOPED_FC, EMBEDDING));
            for (String name : List.of(LOOPED_FC, EMBEDDING)) {
                double trace = trace(hessians.get(name));
                System.out.printf("trace of H(%s) %.6f, sum of squared inputs %.6f%n", name, trace, squares.get(name));
                assertEquals(squares.get(name), trace, 1e-5 * trace, name);
            }
        }
    }

    @Test
    void sumsAreDividedByTheNumberOfBatches() {
        try (Gpt model = referenceModel()) {
            Hessians once = HessianCollector.collect(model, List.of(fixtureBatch(0)), List.of(LOOPED_FC));
            Hessians twice = HessianCollector.collect(model, List.of(fixtureBatch(0), fixtureBatch(1)),
                    List.of(LOOPED_FC));
            assertEquals(2, twice.batches());
            float[] single = once.get(LOOPED_FC).values();
            double[] expected = new double[single.length];
            for (int i = 0; i < single.length; i++) {
                expected[i] = single[i];
            }
            double worst = worstScaledDifference(twice.get(LOOPED_FC).values(), expected, once.get(LOOPED_FC).dim());
            assertTrue(worst < 1e-6, "worst scaled difference " + worst);
        }
    }

    @Test
    void aWeightNoLinearUsesIsAnError() {
        try (Gpt model = referenceModel()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HessianCollector.collect(model, List.of(fixtureBatch(0)), List.of("blocks.0.resid_mix")));
            assertTrue(e.getMessage().contains("blocks.0.resid_mix"), e.getMessage());
        }
    }

    /**
     * max |ours_ij - exact_ij| / sqrt(exact_ii exact_jj): float32 sums of products err by a few ulps of
     * sum |x_i x_j|, which Cauchy-Schwarz bounds by sqrt(H_ii H_jj), whatever cancellation an entry has.
     */
    private static double worstScaledDifference(float[] ours, double[] exact, int d) {
        double worst = 0;
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double bound = Math.sqrt(exact[i * d + i] * exact[j * d + j]);
                worst = Math.max(worst, Math.abs(ours[i * d + j] - exact[i * d + j]) / bound);
            }
        }
        return worst;
    }

    private static double trace(Hessian h) {
        double sum = 0;
        for (int i = 0; i < h.dim(); i++) {
            sum += h.values()[i * h.dim() + i];
        }
        return sum;
    }
}
