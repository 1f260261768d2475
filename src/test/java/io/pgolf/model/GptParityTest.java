package io.pgolf.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgolf.data.SafeTensors;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.cpu.CpuBackend;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The model against the PyTorch reference (fixtures/reference_tiny.*: float32 on the CPU, perturbed init weights,
 * 2 x 32 tokens), with the depth loop off ("noloop") and on ("loop"). Errors are relative: ||ours - ref|| / ||ref||.
 */
class GptParityTest {
    private static final double LOGITS_TOLERANCE = 1e-4;
    private static final double LOSS_TOLERANCE = 1e-4;
    private static final double GRADIENT_TOLERANCE = 1e-3;

    private static TinyReference reference;
    private static SafeTensors fixture;
    private static CpuBackend backend;
    private static int batch;
    private static int seqLen;

    @BeforeAll
    static void open() {
        reference = TinyReference.load();
        fixture = SafeTensors.open(TinyReference.tensors());
        backend = new CpuBackend(2);
        long[] shape = fixture.info("input_ids").shape();
        batch = (int) shape[0];
        seqLen = (int) shape[1];
    }

    @AfterAll
    static void close() {
        backend.close();
        fixture.close();
    }

    private static Gpt referenceModel(boolean looping) {
        Gpt model = Gpt.zeros(backend, reference.layout());
        model.parameters().loadFrom(fixture, "init.");
        model.setLooping(looping);
        return model;
    }

    private static Tensor ids(String name) {
        return backend.tensors().uploadInts(fixture.ints(name), batch * seqLen);
    }

    private static String prefix(boolean looping) {
        return looping ? "loop." : "noloop.";
    }

    @ParameterizedTest(name = "looping {0}")
    @ValueSource(booleans = {false, true})
    void softcappedLogitsMatch(boolean looping) {
        try (Gpt model = referenceModel(looping); Tensor input = ids("input_ids");
             Tensor logits = model.logits(input, batch, seqLen)) {
            float[] expected = fixture.floats(prefix(looping) + "logits");
            double error = relativeError(backend.tensors().download(logits), expected);
            System.out.printf("parity %s logits: relative error %.3e%n", prefix(looping), error);
            assertTrue(error <= LOGITS_TOLERANCE, "logits relative error " + error);
        }
    }

    @ParameterizedTest(name = "looping {0}")
    @ValueSource(booleans = {false, true})
    void lossAndEveryGradientMatch(boolean looping) {
        try (Gpt model = referenceModel(looping); Tensor input = ids("input_ids"); Tensor target = ids("target_ids")) {
            double loss = model.forwardBackward(input, target, batch, seqLen, 1f);
            double expectedLoss = reference.scalar(prefix(looping) + "loss");
            double lossError = Math.abs(loss - expectedLoss) / Math.abs(expectedLoss);
            System.out.printf("parity %s loss %.7f vs %.7f: relative error %.3e%n", prefix(looping), loss,
                    expectedLoss, lossError);
            assertTrue(lossError <= LOSS_TOLERANCE, "loss relative error " + lossError);
            assertGradientsMatch(model, prefix(looping) + "grad.");
        }
    }

    /** Two micro-batches of one sequence each, at gradScale 1/2, sum to the whole batch's mean-loss gradient. */
    @ParameterizedTest(name = "looping {0}")
    @ValueSource(booleans = {false, true})
    void microBatchesAccumulateIntoTheSameGradient(boolean looping) {
        int[] input = fixture.ints("input_ids");
        int[] target = fixture.ints("target_ids");
        try (Gpt model = referenceModel(looping)) {
            double lossSum = 0;
            for (int b = 0; b < batch; b++) {
                int[] inputRow = Arrays.copyOfRange(input, b * seqLen, (b + 1) * seqLen);
                int[] targetRow = Arrays.copyOfRange(target, b * seqLen, (b + 1) * seqLen);
                try (Tensor in = backend.tensors().uploadInts(inputRow, seqLen);
                     Tensor out = backend.tensors().uploadInts(targetRow, seqLen)) {
                    lossSum += model.forwardBackward(in, out, 1, seqLen, 1f / batch);
                }
            }
            double expectedLoss = reference.scalar(prefix(looping) + "loss");
            assertEquals(expectedLoss, lossSum / batch, LOSS_TOLERANCE * expectedLoss);
            assertGradientsMatch(model, prefix(looping) + "grad.");
        }
    }

    /** Evaluation's per-token losses average to the training loss, and leave every gradient untouched. */
    @ParameterizedTest(name = "looping {0}")
    @ValueSource(booleans = {false, true})
    void tokenLossesAverageToTheReferenceLoss(boolean looping) {
        try (Gpt model = referenceModel(looping); Tensor input = ids("input_ids"); Tensor target = ids("target_ids")) {
            float[] losses = model.tokenLosses(input, target, batch, seqLen);
            assertEquals(batch * seqLen, losses.length);
            double mean = 0;
            for (float l : losses) {
                assertTrue(l > 0 && Float.isFinite(l), "token loss " + l);
                mean += l;
            }
            mean /= losses.length;
            double expected = reference.scalar(prefix(looping) + "loss");
            assertEquals(expected, mean, LOSS_TOLERANCE * expected);
            for (float[] grad : model.parameters().gradientsOnHost().values()) {
                for (float g : grad) {
                    assertEquals(0f, g);
                }
            }
        }
    }

    private static void assertGradientsMatch(Gpt model, String prefix) {
        Map<String, Double> worstByGroup = new TreeMap<>();
        StringBuilder failures = new StringBuilder();
        for (Map.Entry<String, float[]> e : model.parameters().gradientsOnHost().entrySet()) {
            String name = e.getKey();
            float[] expected = fixture.floats(prefix + name);
            assertArrayEquals(fixture.info(prefix + name).shape(),
                    Arrays.stream(model.parameters().get(name).shape()).asLongStream().toArray(), name);
            double error = relativeError(e.getValue(), expected);
            worstByGroup.merge(group(name), error, Math::max);
            if (!(error <= GRADIENT_TOLERANCE)) {
                failures.append(String.format("%n  %s: relative error %.3e", name, error));
            }
        }
        worstByGroup.forEach((group, error) -> System.out.printf("parity %s%s: max relative error %.3e%n", prefix,
                group, error));
        assertTrue(failures.isEmpty(), "gradients off by more than " + GRADIENT_TOLERANCE + ":" + failures);
    }

    /** blocks.3.attn.c_q.weight -> attn.c_q.weight: one group per kind of tensor across layers. */
    private static String group(String name) {
        return name.startsWith("blocks.") ? name.substring(name.indexOf('.', "blocks.".length()) + 1) : name;
    }

    static double relativeError(float[] actual, float[] expected) {
        assertEquals(expected.length, actual.length, "element count");
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = (double) actual[i] - expected[i];
            difference += d * d;
            norm += (double) expected[i] * expected[i];
        }
        return norm == 0 ? Math.sqrt(difference) : Math.sqrt(difference / norm);
    }
}
