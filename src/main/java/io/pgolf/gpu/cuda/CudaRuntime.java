package io.pgolf.gpu.cuda;

import java.util.List;
import java.util.Locale;

/**
 * What every CUDA operation class works with: one GPU, its memory pool, pgolf's kernels and cuBLASLt, all bound to
 * the device's single stream, and the backend's {@link CudaTensorOps}. Opened together, closed in reverse order.
 */
public final class CudaRuntime implements AutoCloseable {
    private final CudaDevice device;
    private final DeviceMemoryPool pool;
    private final KernelModules kernels;
    private final Cublas cublas;
    private final CudaTensorOps tensors;

    private CudaRuntime(CudaDevice device, DeviceMemoryPool pool, KernelModules kernels, Cublas cublas) {
        this.device = device;
        this.pool = pool;
        this.kernels = kernels;
        this.cublas = cublas;
        this.tensors = new CudaTensorOps(device, pool, kernels, cublas);
    }

    /** Opens GPU {@code ordinal} with pgolf's kernels and cuBLASLt; a {@link CudaUnavailableException} if not. */
    public static CudaRuntime open(int ordinal) {
        KernelModules.listedFatbins();
        CudaDevice device = CudaDevice.open(ordinal);
        DeviceMemoryPool pool = null;
        KernelModules kernels = null;
        try {
            pool = new DeviceMemoryPool(device);
            kernels = KernelModules.load(device);
            Cublas cublas = Cublas.open(device, pool);
            return new CudaRuntime(device, pool, kernels, cublas);
        } catch (RuntimeException e) {
            if (kernels != null) {
                kernels.close();
            }
            if (pool != null) {
                pool.close();
            }
            device.close();
            throw e;
        }
    }

    public CudaDevice device() {
        return device;
    }

    public DeviceMemoryPool pool() {
        return pool;
    }

    public KernelModules kernels() {
        return kernels;
    }

    public CudaTensorOps tensors() {
        return tensors;
    }

    /** Where cuBLASLt was loaded from, for logs. */
    public String cublasLibrary() {
        return cublas.library().toString();
    }

    /** How GEMM algorithms are chosen: timed per problem, or the heuristic's first ($PGOLF_GEMM_AUTOTUNE=off). */
    public String gemmSelection() {
        return switch (cublas.selection()) {
            case TIMED -> String.format(Locale.ROOT, "timed: on its first call each problem runs up to %d of the"
                    + " heuristic's candidates %d times each on its operands and keeps the fastest",
                    GemmAlgorithmSelection.TIMED.candidatesRequested(), GemmAlgorithmTrial.ROUNDS);
            case HEURISTIC -> "the heuristic's first choice (" + GemmAlgorithmSelection.VARIABLE + "=off)";
        };
    }

    /** Each GEMM problem met so far with its algorithm, one line each, in first-call order. */
    public List<String> gemmAlgorithms() {
        return cublas.algorithms();
    }

    @Override
    public void close() {
        device.synchronize();
        tensors.close();
        cublas.close();
        kernels.close();
        pool.close();
        device.close();
    }
}
