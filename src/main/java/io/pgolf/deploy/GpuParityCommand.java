package io.pgolf.deploy;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.gpu.cuda.CudaBackend;
import io.pgolf.gpu.parity.BackendParity;
import io.pgolf.gpu.parity.ModelParity;
import io.pgolf.gpu.parity.OpCase;
import io.pgolf.gpu.parity.ParityCheck;
import io.pgolf.gpu.parity.ParityScale;
import io.pgolf.gpu.parity.ReferenceFixture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code pgolf gpu-parity}: every backend operation on the GPU against the CPU reference, at the fixtures' tiny sizes,
 * at ragged sizes with the record's head size and at the record model's, then the fixtures' model on the GPU against
 * PyTorch's outputs (logits, loss, gradients, one optimizer step, one training step). One line per result with its
 * largest errors and tolerance; exit 0 only if every result passes.
 */
@Command(name = "gpu-parity", mixinStandardHelpOptions = true,
        description = "Run every GPU operation and a full training step against the CPU reference and the PyTorch"
                + " fixtures; print each result's largest errors and PASS/FAIL. Exit 0 only if all pass.")
public final class GpuParityCommand implements Callable<Integer> {
    private static final String ROW = "%-6s %-36s %-28s %-26s %-5s %9s %9s %7s  %s%n";

    @Spec
    CommandSpec spec;

    @Option(names = "--device", defaultValue = "0", description = "CUDA device ordinal (default ${DEFAULT-VALUE})")
    int device;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the random inputs (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--fixtures", defaultValue = "../shared/fixtures", paramLabel = "DIR",
            description = "the folder of reference_tiny.json and reference_tiny.safetensors (default ${DEFAULT-VALUE})")
    Path fixtures;

    @Option(names = "--only", paramLabel = "REGEX",
            description = "run only the checks whose name (scale/check, e.g. record/attentionBackward,"
                    + " tiny/gemm[NT beta1 act*f32->act], model/step1.optimizer) contains a match")
    Pattern only;

    private final IntFunction<Backend> candidates;

    public GpuParityCommand() {
        this(CudaBackend::open);
    }

    /** With another candidate than the CUDA backend: how the command is tested without a GPU. */
    GpuParityCommand(IntFunction<Backend> candidates) {
        this.candidates = candidates;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Predicate<String> selected = id -> only == null || only.matcher(id).find();
        List<OpCase> cases = Stream.of(ParityScale.TINY, ParityScale.RAGGED, ParityScale.RECORD)
                .flatMap(scale -> BackendParity.cases(scale).stream()).filter(c -> selected.test(c.id())).toList();
        boolean model = ModelParity.checkNames().stream().anyMatch(name -> selected.test("model/" + name));
        if (cases.isEmpty() && !model) {
            spec.commandLine().getErr().println("pgolf gpu-parity: no check matches --only " + only);
            return 2;
        }
        long start = System.nanoTime();
        List<ParityCheck> checks = new ArrayList<>();
        Consumer<ParityCheck> print = check -> {
            checks.add(check);
            boolean threw = check.error() != null;
            out.printf(Locale.ROOT, ROW, check.scale(), check.check(), check.result(), check.shape(), check.dtype(),
                    threw ? "-" : number(check.maxAbs()), threw ? "-" : number(check.relative()),
                    tolerance(check.tolerance()), check.passed() ? "PASS" : threw ? "FAIL  " + check.error() : "FAIL");
            out.flush();
        };
        // The fixture is opened first, so that a wrong --fixtures fails before the long op cases run.
        try (ReferenceFixture fixture = model ? ReferenceFixture.open(fixtures) : null;
             Backend candidate = candidates.apply(device); CpuBackend reference = CpuBackend.allCores()) {
            out.printf(Locale.ROOT, "gpu-parity: %s (activations %s) against %s, seed %d%n", candidate.name(),
                    candidate.activationType(), reference.name(), seed);
            out.printf(Locale.ROOT, ROW, "scale", "check", "result", "shape", "dtype", "max abs", "rel", "tol", "");
            new BackendParity(reference, candidate, seed).run(cases, print);
            if (fixture != null) {
                new ModelParity(candidate, fixture).run(selected, print);
            }
        }
        List<ParityCheck> failed = checks.stream().filter(c -> !c.passed()).toList();
        out.printf(Locale.ROOT, "gpu-parity: %d results, %d passed, %d failed in %.1f s%s%n", checks.size(),
                checks.size() - failed.size(), failed.size(), (System.nanoTime() - start) / 1e9,
                failed.isEmpty() ? "" : ": " + String.join(", ", failed.stream()
                        .map(c -> c.id() + " " + c.result()).toList()));
        out.flush();
        return failed.isEmpty() ? 0 : 1;
    }

    private static String number(double value) {
        return String.format(Locale.ROOT, "%.2e", value);
    }

    private static String tolerance(double value) {
        if (Double.isNaN(value)) {
            return "-";
        }
        return value == 0 ? "0" : String.format(Locale.ROOT, "%.1e", value);
    }
}
