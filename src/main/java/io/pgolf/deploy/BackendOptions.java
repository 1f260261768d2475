package io.pgolf.deploy;

import io.pgolf.config.BackendKind;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Backends;
import picocli.CommandLine.Option;

/** The benchmarks' choice of backend: {@code --backend}, {@code --device}, {@code --threads}. */
final class BackendOptions {
    @Option(names = "--backend", defaultValue = "cpu", description = "cpu or cuda (default ${DEFAULT-VALUE})")
    BackendKind kind;

    @Option(names = "--device", defaultValue = "0", description = "GPU ordinal of the cuda backend (default ${DEFAULT-VALUE})")
    int device;

    @Option(names = "--threads", description = "CPU backend threads (default: the number of cores)")
    Integer threads;

    /** Opens the chosen backend; the caller closes it. */
    Backend open() {
        return Backends.open(kind, threads != null ? threads : Runtime.getRuntime().availableProcessors(), device);
    }
}
