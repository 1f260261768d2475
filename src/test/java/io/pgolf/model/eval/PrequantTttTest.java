package io.pgolf.model.eval;

import io.pgolf.config.PrequantTttConfig;
import io.pgolf.data.SafeTensors;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.TinyReference;
import io.pgolf.protocol.TokenSpan;
import io.pgolf.protocol.Tokens;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pre-quant TTT on the tiny model over 385 validation tokens: 12 sequences of 32. */
class PrequantTttTest {
    private static final int SEQ_LEN = 32;
    private static final double LR = 1e-3;

    @TempDir
    static Path dir;
    private static TinyReference reference;
    private static SafeTensors fixture;
    private static CpuBackend backend;
    private static Tokens tokens;

    @BeforeAll
    static void open() throws Exception {
        reference = TinyReference.load();
        fixture = SafeTensors.open(TinyReference.tensors());
        backend = new CpuBackend(2);
        tokens = EvalFixtures.validationPrefix(dir, SEQ_LEN, 385);
    }

    @AfterAll
    static void close() {
        backend.close();
        fixture.close();
    }

    private static Gpt model() {
        return EvalFixtures.model(backend, reference, fixture, "step1.");
    }

    @Test
    void trainsOnEveryWholeSequenceEachEpochAndLeavesFrozenBlocksAlone() {
        try (Gpt model = model()) {
            Map<String, float[]> before = model.parameters().valuesOnHost();
            PrequantTtt.Training training = PrequantTtt.train(model, tokens, SEQ_LEN, 4,
                    new PrequantTttConfig(true, LR, 2, 1));
            assertEquals(new TokenSpan(0, 12 * SEQ_LEN + 1), training.tokensRead());
            assertEquals(6, training.optimizerSteps());
            assertEquals(2, training.epochLosses().size());
            assertTrue(training.epochLosses().get(1) < training.epochLosses().get(0),
                    "the second epoch fits the tokens better: " + training.epochLosses());
            model.parameters().valuesOnHost().forEach((name, after) -> {
                boolean unchanged = Arrays.equals(before.get(name), after);
                if (name.contains("blocks.0.")) {
                    assertTrue(unchanged, name + " is frozen but changed");
                } else if (name.endsWith(".weight")) {
                    assertTrue(!unchanged, name + " did not train");
                }
            });
        }
    }

    /** Adam's first step (bias-corrected) moves every trained weight by lr * g / (|g| + eps), at the full learning rate. */
    @Test
    void theFirstStepIsAnAdamStepAtThePeakLearningRate() {
        Map<String, float[]> gradients;
        try (Gpt model = model()) {
            int[] inputs = IntStream.range(0, 12 * SEQ_LEN).map(tokens::get).toArray();
            int[] targets = IntStream.range(1, 12 * SEQ_LEN + 1).map(tokens::get).toArray();
            try (Tensor ids = backend.tensors().uploadInts(inputs, inputs.length);
                 Tensor next = backend.tensors().uploadInts(targets, targets.length)) {
                model.forwardBackward(ids, next, 12, SEQ_LEN, 1f);
            }
            gradients = model.parameters().gradientsOnHost();
        }
        try (Gpt model = model()) {
            Map<String, float[]> before = model.parameters().valuesOnHost();
            PrequantTtt.Training training = PrequantTtt.train(model, tokens, SEQ_LEN, 12,
                    new PrequantTttConfig(true, LR, 1, 0));
            assertEquals(1, training.optimizerSteps());
            model.parameters().valuesOnHost().forEach((name, after) -> {
                float[] g = gradients.get(name);
                for (int i = 0; i < after.length; i++) {
                    double expected = before.get(name)[i] - LR * g[i] / (Math.abs(g[i]) + PrequantTtt.EPS);
                    // In float32: the step to ~1e-6 of itself, the sum to one float32 spacing.
                    assertEquals(expected, after[i], 1e-6 * LR + Math.ulp((float) expected), name + "[" + i + "]");
                }
            });
        }
    }

    @Test
    void theLearningRateFallsAlongACosineToATenth() {
        assertEquals(1.0, PrequantTtt.learningRateMultiplier(0, 42), 1e-15);
        assertEquals(0.55, PrequantTtt.learningRateMultiplier(21, 42), 1e-15);
        assertEquals(0.1, PrequantTtt.learningRateMultiplier(42, 42), 1e-15);
    }
}
