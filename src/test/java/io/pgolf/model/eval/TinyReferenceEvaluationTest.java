package io.pgolf.model.eval;

import io.pgolf.config.TttConfig;
import io.pgolf.data.SafeTensors;
import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.TinyReference;
import io.pgolf.protocol.Tokens;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The evaluations against the PyTorch reference (fixtures/reference_tiny: eval.plain, eval.sliding, eval.ttt), on
 * the first 2,049 validation tokens with the step1.* weights and the depth loop on. Errors are relative.
 */
class TinyReferenceEvaluationTest {
    private static final int TOKENS = 2049;
    private static final double PLAIN_TOLERANCE = 1e-5;
    private static final double SLIDING_TOLERANCE = 1e-5;
    private static final double TTT_TOLERANCE = 1e-4;
    private static final double TTT_WEIGHT_TOLERANCE = 1e-3;

    @TempDir
    static Path dir;
    private static TinyReference reference;
    private static SafeTensors fixture;
    private static CpuBackend backend;
    private static Tokens tokens;
    private static ByteTables tables;

    @BeforeAll
    static void open() throws Exception {
        reference = TinyReference.load();
        fixture = SafeTensors.open(TinyReference.tensors());
        backend = new CpuBackend(2);
        tokens = EvalFixtures.validationPrefix(dir, reference.evalSeqLen(), TOKENS);
        tables = EvalFixtures.tables();
    }

    @AfterAll
    static void close() {
        backend.close();
        fixture.close();
    }

    @Test
    void plainEvaluationMatches() {
        try (Gpt model = EvalFixtures.model(backend, reference, fixture, "step1.")) {
            BitsPerByte.Totals totals = new PlainEvaluation(tokens, reference.evalSeqLen(), 16, tables)
                    .run(new GptScorer(model));
            assertMatches("eval.plain", totals, PLAIN_TOLERANCE);
        }
    }

    @Test
    void slidingEvaluationMatches() {
        try (Gpt model = EvalFixtures.model(backend, reference, fixture, "step1.")) {
            BitsPerByte.Totals totals = new SlidingEvaluation(tokens, reference.evalSeqLen(), reference.evalStride(),
                    32, tables).run(new GptScorer(model));
            assertMatches("eval.sliding", totals, SLIDING_TOLERANCE);
        }
    }

    /**
     * Score-first TTT through its explicit steps: the receipts cover every window once, in order, and sum to
     * eval.ttt; the weights afterwards equal ttt_final.*, tensor by tensor.
     */
    @Test
    void scoreFirstTttMatchesScoresAndFinalWeights() {
        TttConfig config = reference.tttConfig();
        try (Gpt model = EvalFixtures.model(backend, reference, fixture, "step1.");
             ScoreFirstTtt ttt = new ScoreFirstTtt(model, tokens, reference.evalSeqLen(), reference.evalStride(),
                     config, tables)) {
            BitsPerByte sums = new BitsPerByte(tables);
            List<Integer> scoredWindows = new ArrayList<>();
            List<ChunkTraining> trainings = new ArrayList<>();
            while (!ttt.finished()) {
                ScoreReceipt receipt = ttt.score(ttt.nextChunkToScore());
                sums.merge(receipt.totals());
                scoredWindows.addAll(receipt.windowStarts());
                if (!ttt.plan().isLast(receipt.chunk())) {
                    trainings.add(ttt.train(receipt));
                }
            }
            assertEquals(ttt.plan().windows().starts(), scoredWindows);
            assertEquals(4, ttt.plan().chunkCount());
            assertEquals(List.of(0, 1, 2), trainings.stream().map(ChunkTraining::chunk).toList());
            int stepsPerChunk = config.tttEpochs() * Math.ceilDiv(config.tttChunkTokens() / reference.evalSeqLen(),
                    config.tttBatchSeqs());
            trainings.forEach(t -> assertEquals(stepsPerChunk, t.optimizerSteps(), "steps on chunk " + t.chunk()));
            trainings.forEach(t -> System.out.printf("ttt chunk %d: lr %.6f, %d steps, mean loss %.6f%n", t.chunk(),
                    t.learningRate(), t.optimizerSteps(), t.meanLoss()));
            assertMatches("eval.ttt", sums.totals(), TTT_TOLERANCE);

            double worst = 0;
            String worstName = "";
            for (var entry : model.parameters().valuesOnHost().entrySet()) {
                double error = relativeNorm(entry.getValue(), fixture.floats("ttt_final." + entry.getKey()));
                if (error > worst) {
                    worst = error;
                    worstName = entry.getKey();
                }
            }
            System.out.printf("ttt_final: worst relative weight error %.3e (%s) over %d tensors%n", worst, worstName,
                    model.parameters().size());
            assertTrue(worst <= TTT_WEIGHT_TOLERANCE, "ttt_final." + worstName + " relative error " + worst);
        }
    }

    private static double relativeNorm(float[] actual, float[] expected) {
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            difference += (actual[i] - (double) expected[i]) * (actual[i] - (double) expected[i]);
            norm += (double) expected[i] * expected[i];
        }
        return Math.sqrt(difference / norm);
    }

    private static void assertMatches(String scalar, BitsPerByte.Totals totals, double tolerance) {
        double[] expected = reference.scalarPair(scalar);
        double lossError = relative(totals.meanLoss(), expected[0]);
        double bpbError = relative(totals.bitsPerByte(), expected[1]);
        System.out.printf("%s: loss %.9f vs %.9f (relative error %.3e), bpb %.9f vs %.9f (%.3e), %d tokens, %d bytes%n",
                scalar, totals.meanLoss(), expected[0], lossError, totals.bitsPerByte(), expected[1], bpbError,
                totals.tokens(), totals.bytes());
        assertTrue(lossError <= tolerance, scalar + " loss relative error " + lossError);
        assertTrue(bpbError <= tolerance, scalar + " bpb relative error " + bpbError);
    }

    private static double relative(double actual, double expected) {
        return Math.abs(actual - expected) / Math.abs(expected);
    }
}
