package io.pgolf.model.eval;

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

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The evaluations against the PyTorch reference (fixtures/reference_tiny: eval.plain, eval.sliding, eval.ttt), on
 * the first 2,049 validation tokens with the step1.* weights and the depth loop on. Errors are relative.
 */
class TinyReferenceEvaluationTest {
    private static final int TOKENS = 2049;
    private static final double PLAIN_TOLERANCE = 1e-5;
    private static final double SLIDING_TOLERANCE = 1e-5;

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
