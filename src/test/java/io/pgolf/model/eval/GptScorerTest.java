package io.pgolf.model.eval;

import io.pgolf.data.SafeTensors;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.TinyReference;
import io.pgolf.protocol.ScoringMethod;
import io.pgolf.protocol.Tokens;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** What GptScorer declares about its scores (causal, normalized over the whole vocabulary) holds for the tiny model. */
class GptScorerTest {
    private static final int SEQ_LEN = 16;

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
        tokens = EvalFixtures.validationPrefix(dir, SEQ_LEN, SEQ_LEN + 1);
    }

    @AfterAll
    static void close() {
        backend.close();
        fixture.close();
    }

    private static int[] inputs() {
        return Arrays.copyOf(tokens.toIntArray(), SEQ_LEN);
    }

    private static int[] targets() {
        return Arrays.copyOfRange(tokens.toIntArray(), 1, SEQ_LEN + 1);
    }

    @Test
    void declaresCausalAttentionAndTheWholeVocabulary() {
        try (Gpt model = EvalFixtures.model(backend, reference, fixture, "step1.")) {
            assertEquals(new ScoringMethod(true, EvalFixtures.VOCAB), new GptScorer(model).scoringMethod());
        }
    }

    /** Changing the input at position q leaves every loss before q as it was, bit for bit, and changes the one at q. */
    @Test
    void aLossDependsOnlyOnTheInputsUpToItsPosition() {
        try (Gpt model = EvalFixtures.model(backend, reference, fixture, "step1.")) {
            GptScorer scorer = new GptScorer(model);
            float[] original = scorer.tokenLosses(inputs(), targets(), 1, SEQ_LEN);
            for (int q : new int[] {1, SEQ_LEN / 2, SEQ_LEN - 1}) {
                int[] changed = inputs();
                changed[q] = (changed[q] + 1) % EvalFixtures.VOCAB;
                float[] losses = scorer.tokenLosses(changed, targets(), 1, SEQ_LEN);
                assertArrayEquals(Arrays.copyOf(original, q), Arrays.copyOf(losses, q), "losses before " + q);
                assertNotEquals(original[q], losses[q], "loss at " + q);
            }
        }
    }

    /**
     * For every position of a short window, the probabilities exp(-loss) of all vocabulary entries as the target sum
     * to one (one window per vocabulary entry, so the window is kept short).
     */
    @Test
    void theLossesOfEveryPossibleTargetNormalize() {
        int vocab = EvalFixtures.VOCAB;
        int length = 4;
        int[] inputs = new int[vocab * length];
        int[] targets = new int[vocab * length];
        for (int v = 0; v < vocab; v++) {
            System.arraycopy(inputs(), 0, inputs, v * length, length);
            Arrays.fill(targets, v * length, (v + 1) * length, v);
        }
        try (Gpt model = EvalFixtures.model(backend, reference, fixture, "step1.")) {
            float[] losses = new GptScorer(model).tokenLosses(inputs, targets, vocab, length);
            for (int position = 0; position < length; position++) {
                double probability = 0;
                for (int v = 0; v < vocab; v++) {
                    probability += Math.exp(-losses[v * length + position]);
                }
                assertEquals(1.0, probability, 1e-5, "position " + position);
            }
        }
    }
}
