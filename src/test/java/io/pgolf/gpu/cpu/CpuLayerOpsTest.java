package io.pgolf.gpu.cpu;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuLayerOpsTest {
    /** Small odd sizes: every index mistake shows, and finite differences stay cheap. */
    private static final LayerOpCases.Dims SMALL = new LayerOpCases.Dims(2, 5, 7, 4, 2, 8, 4, 11);
    /** Large enough that every operation splits its work over several tasks. */
    private static final LayerOpCases.Dims SPLIT = new LayerOpCases.Dims(4, 256, 45, 4, 2, 16, 8, 300);
    private static final long SEED = 20240611L;
    private static final double FORWARD_TOLERANCE = 1e-5;
    private static final double FD_STEP = 3e-3;
    private static final double FD_TOLERANCE = 2e-4;

    private static CpuBackend backend;

    @BeforeAll
    static void startBackend() {
        backend = new CpuBackend(2);
    }

    @AfterAll
    static void closeBackend() {
        backend.close();
    }

    private static Stream<LayerOpCase> smallCases() {
        return LayerOpCases.all(backend, SMALL, SEED).stream();
    }

    @TestFactory
    Stream<DynamicTest> forwardMatchesFloat64Reference() {
        return smallCases().map(op -> DynamicTest.dynamicTest(op.name(), () -> {
            float[] got = op.forward().run(op.values());
            double[] expected = op.reference().run(op.values());
            assertEquals(expected.length, got.length, op.name() + " output length");
            for (int i = 0; i < got.length; i++) {
                int element = i;
                assertTrue(Math.abs(got[i] - expected[i]) <= FORWARD_TOLERANCE * (1 + Math.abs(expected[i])),
                        () -> op.name() + "[" + element + "] = " + got[element] + ", reference " + expected[element]);
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> backwardMatchesFiniteDifferences() {
        return smallCases().filter(LayerOpCase::hasBackward).map(op -> DynamicTest.dynamicTest(op.name(), () ->
                GradientCheck.assertMatchesFiniteDifferences(op, new Random(SEED), FD_STEP, FD_TOLERANCE)));
    }

    @TestFactory
    Stream<DynamicTest> backwardAddsIntoGradients() {
        return smallCases().filter(LayerOpCase::hasBackward).map(op -> DynamicTest.dynamicTest(op.name(), () ->
                GradientCheck.assertBackwardAdds(op, new Random(SEED))));
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        try (CpuBackend single = new CpuBackend(1); CpuBackend four = new CpuBackend(4)) {
            List<LayerOpCase> singleCases = LayerOpCases.all(single, SPLIT, SEED);
            List<LayerOpCase> fourCases = LayerOpCases.all(four, SPLIT, SEED);
            for (int c = 0; c < singleCases.size(); c++) {
                LayerOpCase one = singleCases.get(c);
                LayerOpCase many = fourCases.get(c);
                assertArrayEquals(one.forward().run(one.values()), many.forward().run(many.values()),
                        one.name() + " forward");
                if (one.hasBackward()) {
                    float[][] oneGradients = one.gradients();
                    float[][] manyGradients = many.gradients();
                    for (int i = 0; i < oneGradients.length; i++) {
                        assertArrayEquals(oneGradients[i], manyGradients[i],
                                one.name() + " gradient of " + one.inputs().get(i).name());
                    }
                }
            }
        }
    }

    @Test
    void rmsNormSavesInverseRms() {
        TensorOps t = backend.tensors();
        float[] x = {3f, 4f, 0f, 0f, 1f, -1f};
        Tensor invRms = t.zeros(DType.F32, 2);
        float eps = 0.5f;
        backend.layers().rmsNorm(t.upload(DType.F32, x, 2, 3), 1f, eps, t.zeros(DType.F32, 2, 3), invRms);
        float[] got = t.download(invRms);
        assertEquals(LayerOpCases.referenceInvRms(x, 0, 3, eps), got[0], 1e-6);
        assertEquals(LayerOpCases.referenceInvRms(x, 3, 3, eps), got[1], 1e-6);
    }

    @Test
    void attentionSavesLogSumExpOfScaledScores() {
        TensorOps t = backend.tensors();
        AttentionShape shape = SMALL.attentionShape();
        Random random = new Random(SEED);
        float[] q = gaussian(random, shape.rows() * shape.heads() * shape.headDim());
        float[] k = gaussian(random, shape.rows() * shape.kvHeads() * shape.headDim());
        float[] v = gaussian(random, k.length);
        Tensor logSumExp = t.zeros(DType.F32, shape.batch(), shape.heads(), shape.seqLen());
        backend.layers().attention(t.upload(DType.F32, q, shape.rows(), q.length / shape.rows()),
                t.upload(DType.F32, k, shape.rows(), k.length / shape.rows()),
                t.upload(DType.F32, v, shape.rows(), v.length / shape.rows()),
                shape, t.zeros(DType.F32, shape.rows(), q.length / shape.rows()), logSumExp, null);
        double[] expected = LayerOpCases.referenceAttention(q, k, v, shape).logSumExp();
        float[] got = t.download(logSumExp);
        for (int i = 0; i < got.length; i++) {
            assertEquals(expected[i], got[i], FORWARD_TOLERANCE * (1 + Math.abs(expected[i])), "log-sum-exp " + i);
        }
    }

    /**
     * Two heads over one kv head, two positions; the value at position 1 is zero, so XSA leaves that row's attention
     * output as it is, and saves the other row's projections c = y . vHat.
     */
    @Test
    void attentionWithXsaSavesProjectionsAndPassesRowsWithZeroValuesThrough() {
        TensorOps t = backend.tensors();
        LayerOps ops = backend.layers();
        AttentionShape shape = new AttentionShape(1, 2, 2, 1, 3, 1f);
        float[] values = {2, -1, 0.5f, 0, 0, 0};
        Tensor q = t.upload(DType.F32, new float[]{1, 2, 3, -4, 5, -6, 0.5f, 1, -1, 2, 0, 1}, 2, 6);
        Tensor k = t.upload(DType.F32, new float[]{1, -1, 2, 0.5f, 0.5f, -3}, 2, 3);
        Tensor v = t.upload(DType.F32, values, 2, 3);
        Tensor y = t.zeros(DType.F32, 2, 6);
        ops.attention(q, k, v, shape, y, t.zeros(DType.F32, 1, 2, 2), null);
        Tensor z = t.zeros(DType.F32, 2, 6);
        Tensor logSumExp = t.zeros(DType.F32, 1, 2, 2);
        Tensor projections = t.zeros(DType.F32, 4);
        ops.attention(q, k, v, shape, z, logSumExp, projections);
        float[] plain = t.download(y);
        float[] exclusive = t.download(z);
        float[] c = t.download(projections);
        double norm = Math.sqrt(2 * 2 + 1 + 0.25);
        for (int h = 0; h < 2; h++) {
            double expected = 0;
            for (int i = 0; i < 3; i++) {
                expected += plain[h * 3 + i] * values[i] / norm;
            }
            assertEquals(expected, c[h], FORWARD_TOLERANCE, "projection of row 0, head " + h);
            assertEquals(0f, c[2 + h], "projection of row 1 (zero value), head " + h);
        }
        for (int i = 6; i < 12; i++) {
            assertEquals(plain[i], exclusive[i], "row 1 (zero value), element " + (i - 6));
        }
        Tensor dQ = t.zeros(DType.F32, 2, 6);
        Tensor dK = t.zeros(DType.F32, 2, 3);
        Tensor dV = t.zeros(DType.F32, 2, 3);
        ops.attentionBackward(q, k, v, shape, z, logSumExp, projections,
                t.upload(DType.F32, new float[]{0.5f, -1, 2, 1, 1, -3, 1, 0, -2, 0.5f, 1, 1}, 2, 6), dQ, dK, dV);
        for (Tensor gradient : List.of(dQ, dK, dV)) {
            for (float g : t.download(gradient)) {
                assertTrue(Float.isFinite(g), "gradient " + g);
            }
        }
    }

    private static float[] gaussian(Random random, int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    @Test
    void residualMixBackwardAcceptsOneGradientForXAndX0() {
        TensorOps t = backend.tensors();
        LayerOps ops = backend.layers();
        int n = 3;
        int d = 2;
        Tensor x = t.upload(DType.F32, new float[]{1, 2, 3, 4, 5, 6}, n, d);
        Tensor mix = t.upload(DType.F32, new float[]{0.5f, 2f, -1f, 3f}, 2, d);
        Tensor dOut = t.upload(DType.F32, new float[]{1, -1, 2, 0.5f, -3, 1}, n, d);
        Tensor separateX = t.zeros(DType.F32, n, d);
        Tensor separateX0 = t.zeros(DType.F32, n, d);
        ops.residualMixBackward(x, x, mix, dOut, separateX, separateX0, t.zeros(DType.F32, 2, d));
        Tensor shared = t.zeros(DType.F32, n, d);
        ops.residualMixBackward(x, x, mix, dOut, shared, shared, t.zeros(DType.F32, 2, d));
        t.add(separateX, separateX0, separateX);
        assertArrayEquals(t.download(separateX), t.download(shared));
    }

    /** A missing gradient of the residual value counts as zero in both fused backwards. */
    @Test
    void fusedNormBackwardsTakeAMissingResidualGradientAsZero() {
        TensorOps t = backend.tensors();
        LayerOps ops = backend.layers();
        Random random = new Random(SEED);
        int n = 3;
        int d = 5;
        Tensor x = t.upload(DType.F32, gaussian(random, n * d), n, d);
        Tensor x0 = t.upload(DType.F32, gaussian(random, n * d), n, d);
        Tensor mix = t.upload(DType.F32, gaussian(random, 2 * d), 2, d);
        Tensor scale = t.upload(DType.F32, gaussian(random, d), d);
        Tensor dNormed = t.upload(DType.F32, gaussian(random, n * d), n, d);
        Tensor invRms = t.zeros(DType.F32, n);
        ops.residualMixRmsNorm(x, x0, mix, 0.7f, 0.25f, t.zeros(DType.F32, n, d), t.zeros(DType.F32, n, d), invRms);
        List<Tensor> missing = List.of(t.zeros(DType.F32, n, d), t.zeros(DType.F32, n, d), t.zeros(DType.F32, 2, d));
        List<Tensor> zero = List.of(t.zeros(DType.F32, n, d), t.zeros(DType.F32, n, d), t.zeros(DType.F32, 2, d));
        ops.residualMixRmsNormBackward(x, x0, mix, invRms, 0.7f, null, dNormed, missing.get(0), missing.get(1),
                missing.get(2));
        ops.residualMixRmsNormBackward(x, x0, mix, invRms, 0.7f, t.zeros(DType.F32, n, d), dNormed, zero.get(0),
                zero.get(1), zero.get(2));
        for (int i = 0; i < missing.size(); i++) {
            assertArrayEquals(t.download(zero.get(i)), t.download(missing.get(i)), "residual mix gradient " + i);
        }
        List<Tensor> scaledMissing = List.of(t.zeros(DType.F32, n, d), t.zeros(DType.F32, n, d), t.zeros(DType.F32, d));
        List<Tensor> scaledZero = List.of(t.zeros(DType.F32, n, d), t.zeros(DType.F32, n, d), t.zeros(DType.F32, d));
        ops.scaledResidualRmsNormBackward(scale, x0, x, invRms, 0.7f, null, dNormed, scaledMissing.get(0),
                scaledMissing.get(1), scaledMissing.get(2));
        ops.scaledResidualRmsNormBackward(scale, x0, x, invRms, 0.7f, t.zeros(DType.F32, n, d), dNormed,
                scaledZero.get(0), scaledZero.get(1), scaledZero.get(2));
        for (int i = 0; i < scaledMissing.size(); i++) {
            assertArrayEquals(t.download(scaledZero.get(i)), t.download(scaledMissing.get(i)),
                    "scaled residual gradient " + i);
        }
    }

    /**
     * Without dX, the scaled residual's fused backward replaces dOut by the total gradient: what it would have added
     * into a zero dX, with the same dY and dScale; with dX, dOut is left as it was.
     */
    @Test
    void fusedScaledResidualBackwardWithoutDXReplacesDOutByTheTotal() {
        TensorOps t = backend.tensors();
        LayerOps ops = backend.layers();
        Random random = new Random(SEED + 1);
        int n = 4;
        int d = 6;
        Tensor x = t.upload(DType.F32, gaussian(random, n * d), n, d);
        Tensor scale = t.upload(DType.F32, gaussian(random, d), d);
        Tensor y = t.upload(DType.F32, gaussian(random, n * d), n, d);
        float[] dOutValues = gaussian(random, n * d);
        Tensor dNormed = t.upload(DType.F32, gaussian(random, n * d), n, d);
        Tensor out = t.zeros(DType.F32, n, d);
        Tensor invRms = t.zeros(DType.F32, n);
        ops.scaledResidualRmsNorm(x, scale, y, 0.7f, 0.25f, out, t.zeros(DType.F32, n, d), invRms);
        Tensor replaced = t.upload(DType.F32, dOutValues, n, d);
        Tensor dYReplaced = t.zeros(DType.F32, n, d);
        Tensor dScaleReplaced = t.zeros(DType.F32, d);
        ops.scaledResidualRmsNormBackward(scale, y, out, invRms, 0.7f, replaced, dNormed, null, dYReplaced,
                dScaleReplaced);
        Tensor kept = t.upload(DType.F32, dOutValues, n, d);
        Tensor dX = t.zeros(DType.F32, n, d);
        Tensor dY = t.zeros(DType.F32, n, d);
        Tensor dScale = t.zeros(DType.F32, d);
        ops.scaledResidualRmsNormBackward(scale, y, out, invRms, 0.7f, kept, dNormed, dX, dY, dScale);
        assertArrayEquals(t.download(dX), t.download(replaced));
        assertArrayEquals(dOutValues, t.download(kept));
        assertArrayEquals(t.download(dY), t.download(dYReplaced));
        assertArrayEquals(t.download(dScale), t.download(dScaleReplaced));
    }

    @Test
    void crossEntropyLossIsTheSameWithOrWithoutGradient() {
        TensorOps t = backend.tensors();
        Tensor z = t.upload(DType.F32, new float[]{0.5f, -2f, 7f, 1f, 1f, -30f}, 2, 3);
        Tensor targets = t.uploadInts(new int[]{2, 0}, 2);
        Tensor lossAlone = t.zeros(DType.F32, 2);
        Tensor lossWithGradient = t.zeros(DType.F32, 2);
        backend.layers().softcapCrossEntropy(z, targets, 30f, lossAlone, null, 0f);
        backend.layers().softcapCrossEntropy(z, targets, 30f, lossWithGradient, t.zeros(DType.F32, 2, 3), 1f);
        assertArrayEquals(t.download(lossAlone), t.download(lossWithGradient));
    }

    @Test
    void idsOutsideTheVocabularyAreRejectedWithTheirRow() {
        TensorOps t = backend.tensors();
        Tensor weight = t.zeros(DType.F32, 4, 2);
        Tensor ids = t.uploadInts(new int[]{0, 3, 4}, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> backend.layers().embedding(ids, weight, t.zeros(DType.F32, 3, 2)));
        assertTrue(e.getMessage().contains("row 2"), e.getMessage());
    }
}
