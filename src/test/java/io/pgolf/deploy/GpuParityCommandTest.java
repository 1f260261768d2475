package io.pgolf.deploy;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.gpu.cpu.CpuTensor;
import io.pgolf.gpu.parity.AlteredBackend;
import io.pgolf.gpu.parity.Bfloat16StorageBackend;
import io.pgolf.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pgolf gpu-parity with CPU candidates in place of the GPU: the table, the summary and the exit code. */
class GpuParityCommandTest {
    private static CliResult run(IntFunction<Backend> candidates, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new GpuParityCommand(candidates));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new CliResult(exit, out.toString(), err.toString());
    }

    private static String fixtures() {
        return SharedFiles.root().resolve("fixtures").toString();
    }

    /** Every tiny and ragged op case and every model check, on a CPU candidate storing activations in bfloat16. */
    @Test
    void aBfloat16CandidatePassesTheSmallCasesAndTheModelAndExitsZero() {
        CliResult result = run(ordinal -> new Bfloat16StorageBackend(2), "--fixtures", fixtures(), "--only",
                "^(tiny|ragged|model)/");
        assertEquals(0, result.exit(), result.out() + result.err());
        assertTrue(result.out().contains("(activations BF16)"), result.out());
        assertTrue(result.out().lines().anyMatch(l -> l.startsWith("tiny ") && l.contains("attentionBackward")
                && l.contains(" dQ ") && l.endsWith("PASS")), result.out());
        assertTrue(result.out().lines().anyMatch(l -> l.startsWith("model ") && l.contains("step1.trainStep")
                && l.endsWith("PASS")), result.out());
        assertTrue(result.out().lines().noneMatch(l -> l.startsWith("record ")), "--only left the record scale out");
        assertTrue(result.out().lines().anyMatch(l -> l.matches("gpu-parity: \\d+ results, \\d+ passed, 0 failed in .*")),
                result.out());
    }

    @Test
    void aFailingResultIsNamedInTheSummaryAndExitsOne() {
        CliResult result = run(ordinal -> AlteredBackend.layers(new CpuBackend(1), "rmsNorm", (ops, args) -> {
            ops.rmsNorm((Tensor) args[0], (float) args[1], (float) args[2], (Tensor) args[3], (Tensor) args[4]);
            CpuTensor.of((Tensor) args[4]).floats()[0] *= 2;
        }), "--only", "^tiny/rmsNorm$");
        assertEquals(1, result.exit(), result.out() + result.err());
        assertTrue(result.out().lines().anyMatch(l -> l.contains("rmsNorm") && l.contains("invRms")
                && l.endsWith("FAIL")), result.out());
        assertTrue(result.out().contains("2 results, 1 passed, 1 failed") && result.out().contains(": tiny/rmsNorm invRms"),
                result.out());
    }

    @Test
    void anOnlyThatMatchesNothingIsAnError() {
        CliResult result = run(ordinal -> new CpuBackend(1), "--only", "no such op");
        assertEquals(2, result.exit());
        assertTrue(result.err().contains("no check matches --only no such op"), result.err());
    }

    /** A wrong --fixtures fails at once, naming the file, before any op case runs. */
    @Test
    void aMissingFixtureFailsBeforeTheOperations() {
        CliResult result = run(ordinal -> new CpuBackend(1), "--fixtures", "no/such/dir");
        assertEquals(1, result.exit());
        assertTrue(result.err().contains("no/such/dir") && result.err().contains("not found"), result.err());
        assertTrue(result.out().isEmpty(), result.out());
    }

    @Test
    void isACommandOfPgolf() {
        CliResult result = CliResult.run("gpu-parity", "--help");
        assertEquals(0, result.exit(), result.err());
        assertTrue(result.out().contains("--only=REGEX") && result.out().contains("--device"), result.out());
    }
}
