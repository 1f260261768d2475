package io.pgolf.gpu.parity;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.gpu.cpu.CpuTensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The op suite on the CPU: the reference against itself passes; a candidate with one planted bug fails exactly
 * there; a candidate that stores activations in bfloat16 passes under the bf16 tolerances, with errors the size of
 * bfloat16 rounding.
 */
class BackendParityTest {
    private static final long SEED = 20260517L;
    private static final List<OpCase> TINY = BackendParity.cases(ParityScale.TINY);
    private static final List<OpCase> TINY_AND_RAGGED = Stream.concat(TINY.stream(),
            BackendParity.cases(ParityScale.RAGGED).stream()).toList();

    private static CpuBackend reference;

    @BeforeAll
    static void open() {
        reference = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        reference.close();
    }

    private static List<ParityCheck> run(Backend candidate) {
        return run(candidate, TINY);
    }

    private static List<ParityCheck> run(Backend candidate, List<OpCase> cases) {
        return new BackendParity(reference, candidate, SEED).run(cases, check -> { });
    }

    private static Set<String> failures(List<ParityCheck> checks) {
        return checks.stream().filter(c -> !c.passed()).map(c -> c.check() + " " + c.result())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void everyOperationOfTheBackendHasACase() {
        Set<String> ops = TINY.stream().map(OpCase::op).collect(Collectors.toSet());
        // download and downloadInts read every result back, so every case runs them.
        Set<String> missing = Stream.of(TensorOps.class, LayerOps.class, OptimizerOps.class)
                .flatMap(type -> Arrays.stream(type.getMethods())).map(Method::getName)
                .filter(name -> !name.equals("download") && !name.equals("downloadInts"))
                .filter(name -> !ops.contains(name)).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Set.of(), missing, "operations without a parity case");
    }

    @Test
    void theReferenceAgainstItselfPassesEveryCheck() {
        try (CpuBackend candidate = new CpuBackend(1)) {
            List<ParityCheck> checks = run(candidate, TINY_AND_RAGGED);
            assertEquals(Set.of(), failures(checks));
            assertTrue(checks.size() > TINY_AND_RAGGED.size(), checks.size() + " checks for "
                    + TINY_AND_RAGGED.size() + " cases");
            checks.forEach(c -> assertEquals(0.0, c.relative(), c.id() + " " + c.result()));
        }
    }

    @Test
    void aNormOffByOneThousandthFailsThereAndNowhereElse() {
        try (Backend candidate = AlteredBackend.layers(new CpuBackend(1), "rmsNorm", (ops, args) -> {
            ops.rmsNorm((Tensor) args[0], (float) args[1], (float) args[2], (Tensor) args[3], (Tensor) args[4]);
            float[] out = CpuTensor.of((Tensor) args[3]).floats();
            for (int i = 0; i < out.length; i++) {
                out[i] += 1e-3f;
            }
        })) {
            assertEquals(Set.of("rmsNorm out"), failures(run(candidate)));
        }
    }

    /** A backward that writes its gradient instead of adding into it. */
    @Test
    void aBackwardThatOverwritesItsGradientFails() {
        try (Backend candidate = AlteredBackend.layers(new CpuBackend(1), "leakyReluSquaredBackward", (ops, args) -> {
            reference.tensors().fill((Tensor) args[3], 0f);
            ops.leakyReluSquaredBackward((Tensor) args[0], (float) args[1], (Tensor) args[2], (Tensor) args[3]);
        })) {
            List<ParityCheck> checks = run(candidate);
            assertEquals(Set.of("leakyReluSquaredBackward dX"), failures(checks));
            ParityCheck lost = checks.stream().filter(c -> c.check().equals("leakyReluSquaredBackward")).findFirst()
                    .orElseThrow();
            assertTrue(lost.relative() > 0.5, "a lost addition of the contribution's size: " + lost);
        }
    }

    /**
     * A backward that is right when it adds into a gradient but wrong when the gradient starts at zero (where the
     * CUDA backend stores instead of adding): here it adds its contribution twice. Only the from-zero run shows it.
     */
    @Test
    void aBackwardWrongOnlyFromAZeroGradientFailsItsFromZeroCheck() {
        try (Backend candidate = AlteredBackend.layers(new CpuBackend(1), "leakyReluSquaredBackward", (ops, args) -> {
            Tensor dX = (Tensor) args[3];
            boolean fromZero = true;
            for (float v : reference.tensors().download(dX)) {
                fromZero &= v == 0f;
            }
            for (int times = fromZero ? 2 : 1; times > 0; times--) {
                ops.leakyReluSquaredBackward((Tensor) args[0], (float) args[1], (Tensor) args[2], dX);
            }
        })) {
            List<ParityCheck> checks = run(candidate);
            assertEquals(Set.of("leakyReluSquaredBackward dX from zero"), failures(checks));
        }
    }

    @Test
    void aCandidateThatThrowsFailsThatOperationWithItsMessage() {
        try (Backend candidate = AlteredBackend.optimizer(new CpuBackend(1), "applyRoundedUpdate", (ops, args) -> {
            throw new IllegalStateException("no kernel pg_apply_rounded_update");
        })) {
            List<ParityCheck> checks = run(candidate);
            assertEquals(Set.of("applyRoundedUpdate param[0]", "applyRoundedUpdate param[1]",
                    "applyRoundedUpdate param[2]"), failures(checks));
            ParityCheck failed = checks.stream().filter(c -> !c.passed()).findFirst().orElseThrow();
            assertTrue(failed.error().contains("no kernel pg_apply_rounded_update"), failed.error());
        }
    }

    /**
     * A correct bf16-storage backend passes, and its bfloat16 results are off by about one rounding (so the
     * tolerances do meet bf16 errors, and are not ten times larger than them for nothing).
     */
    @Test
    void bfloat16StoragePassesWithRoundingSizedErrors() {
        try (Backend candidate = new Bfloat16StorageBackend(1)) {
            List<ParityCheck> checks = run(candidate, TINY_AND_RAGGED);
            Map<String, Double> worstByTolerance = new TreeMap<>();
            checks.forEach(c -> worstByTolerance.merge(String.valueOf(c.tolerance()), c.relative(), Math::max));
            checks.stream().filter(c -> c.dtype().equals("bf16") && c.tolerance() > 0).forEach(c -> System.out.printf(
                    "bf16 storage %-6s %-40s %-10s rel %.2e (tol %.0e)%n", c.scale(), c.check(), c.result(), c.relative(),
                    c.tolerance()));
            System.out.println("bf16 storage: worst relative error per tolerance " + worstByTolerance);
            assertEquals(Set.of(), failures(checks));
            ParityCheck norm = checks.stream().filter(c -> c.check().equals("rmsNorm") && c.result().equals("out"))
                    .findFirst().orElseThrow();
            assertEquals("bf16", norm.dtype());
            assertTrue(norm.relative() > 1e-4 && norm.relative() < 3e-3, "rmsNorm's bf16 output: " + norm);
        }
    }
}
