package io.pgolf.gpu.parity;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.testing.SharedFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The model checks on the CPU: the float32 reference and a bf16-storage CPU backend both pass them (the printed
 * errors are where the tolerances come from), and a planted bug in the loss gradient or in AdamW fails exactly the
 * checks that depend on it.
 */
class ModelParityTest {
    private static ReferenceFixture fixture;

    @BeforeAll
    static void open() {
        fixture = ReferenceFixture.open(SharedFiles.root().resolve("fixtures"));
    }

    @AfterAll
    static void close() {
        fixture.close();
    }

    private static List<ParityCheck> run(Backend candidate, String label, Predicate<String> selected) {
        return new ModelParity(candidate, fixture).run(selected, c -> System.out.printf(
                "%s %-24s %-36s %-14s %-5s max abs %.2e rel %.2e tol %.0e %s%n", label, c.check(), c.result(),
                c.shape(), c.dtype(), c.maxAbs(), c.relative(), c.tolerance(), c.passed() ? "PASS" : "FAIL"));
    }

    private static Set<String> failures(List<ParityCheck> checks) {
        return checks.stream().filter(c -> !c.passed()).map(c -> c.check() + " " + c.result())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void theFloat32ReferencePassesEveryCheck() {
        try (CpuBackend cpu = new CpuBackend(2)) {
            List<ParityCheck> checks = run(cpu, "cpu", id -> true);
            assertEquals(Set.of(), failures(checks));
            Set<String> names = checks.stream().map(ParityCheck::check).collect(Collectors.toSet());
            assertEquals(Set.copyOf(ModelParity.checkNames()), names);
        }
    }

    @Test
    void bfloat16StoragePassesEveryCheck() {
        try (Backend bf16 = new Bfloat16StorageBackend(2)) {
            List<ParityCheck> checks = run(bf16, "bf16", id -> true);
            assertEquals(Set.of(), failures(checks));
            ParityCheck logits = checks.getFirst();
            assertEquals("logits", logits.result());
            assertTrue(logits.relative() > 1e-3, "bf16 logits carry bf16 errors: " + logits);
        }
    }

    /** The loss gradient seeded twice as large: every gradient and the training step fail, the forward does not. */
    @Test
    void aDoubledLossGradientFailsTheGradientsOnly() {
        try (Backend candidate = AlteredBackend.layers(new CpuBackend(2), "softcapCrossEntropy",
                (ops, args) -> ops.softcapCrossEntropy((Tensor) args[0], (Tensor) args[1], (float) args[2],
                        (Tensor) args[3], (Tensor) args[4], 2 * (float) args[5]))) {
            List<ParityCheck> checks = run(candidate, "doubled loss gradient", id -> !id.contains("step1.optimizer"));
            Set<String> failed = failures(checks);
            Set<String> gradients = checks.stream().filter(c -> c.result().startsWith("grad "))
                    .map(c -> c.check() + " " + c.result()).collect(Collectors.toSet());
            assertTrue(failed.containsAll(gradients), "every gradient fails: " + failed);
            assertTrue(failed.contains("step1.trainStep grad norm before clip"), failed.toString());
            assertFalse(failed.stream().anyMatch(f -> f.contains("logits") || f.contains("loss")), failed.toString());
        }
    }

    /** AdamW with a 1% larger learning rate: the optimizer step's AdamW tensors fail, its Muon matrices do not. */
    @Test
    void aWrongAdamWLearningRateFailsTheAdamWUpdates() {
        try (Backend candidate = AlteredBackend.optimizer(new CpuBackend(2), "adamw",
                (ops, args) -> ops.adamw(tensors(args[0]), tensors(args[1]), tensors(args[2]), tensors(args[3]),
                        1.01f * (float) args[4], (float) args[5], (float) args[6], (float) args[7], (float) args[8],
                        (int) args[9]))) {
            List<ParityCheck> checks = run(candidate, "adamw lr x1.01", id -> id.equals("model/step1.optimizer"));
            Set<String> adamw = checks.stream().filter(c -> c.result().startsWith("update adamw"))
                    .map(c -> c.check() + " " + c.result()).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(adamw, failures(checks));
        }
    }

    /** A candidate that cannot run the model (an operation throws) fails every check with the message, one by one. */
    @Test
    void aModelThatThrowsFailsEachCheckWithTheMessage() {
        try (Backend candidate = AlteredBackend.layers(new CpuBackend(1), "attention", (ops, args) -> {
            throw new IllegalArgumentException("CUDA attention supports head_dim 64");
        })) {
            List<ParityCheck> checks = run(candidate, "throwing attention", id -> true);
            assertEquals(ModelParity.checkNames().size() - 1, checks.stream().filter(c -> !c.passed()).count(),
                    "every check but the optimizer step from the reference's gradients");
            checks.stream().filter(c -> !c.passed()).forEach(c -> assertTrue(
                    c.error().contains("CUDA attention supports head_dim 64"), c.toString()));
        }
    }

    @Test
    void aMissingFixtureIsNamed(@org.junit.jupiter.api.io.TempDir Path empty) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReferenceFixture.open(empty));
        assertTrue(e.getMessage().contains(ReferenceFixture.JSON), e.getMessage());
    }

    @SuppressWarnings("unchecked")
    private static List<Tensor> tensors(Object listArgument) {
        return (List<Tensor>) listArgument;
    }
}
