package io.pgolf.gpu;

import io.pgolf.config.BackendKind;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.gpu.cuda.CudaBackend;

/** Opens the backend a configuration names. */
public final class Backends {
    private Backends() {
    }

    /**
     * @param cpuThreads threads of the CPU backend
     * @param device     the GPU of the CUDA backend (a rank's local rank)
     */
    public static Backend open(BackendKind kind, int cpuThreads, int device) {
        return switch (kind) {
            case CPU -> new CpuBackend(cpuThreads);
            case CUDA -> CudaBackend.open(device);
        };
    }
}
