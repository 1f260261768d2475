package io.pgolf.gpu.cuda;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.TensorOps;

/**
 * The GPU backend: one CUDA device, bfloat16 activations, float32 parameters, gradients of parameters and optimizer
 * state; GEMMs in cuBLASLt, everything else in pgolf's kernels. Not thread-safe: one owner (a Trainer on its own
 * thread, an evaluator) drives it.
 */
public final class CudaBackend implements Backend {
    private final CudaRuntime runtime;
    private final CudaLayerOps layers;
    private final CudaOptimizerOps optimizer;

    private CudaBackend(CudaRuntime runtime) {
        this.runtime = runtime;
        this.layers = new CudaLayerOps(runtime, new CudaFlashAttention(runtime));
        this.optimizer = new CudaOptimizerOps(runtime);
    }

    /** Opens GPU {@code deviceOrdinal}; a {@link CudaUnavailableException} says why when it cannot. */
    public static CudaBackend open(int deviceOrdinal) {
        CudaRuntime runtime = CudaRuntime.open(deviceOrdinal);
        try {
            return new CudaBackend(runtime);
        } catch (RuntimeException e) {
            runtime.close();
            throw e;
        }
    }

    public CudaRuntime runtime() {
        return runtime;
    }

    /** The device memory pool's figures (peak bytes taken, for benchmarks). */
    public DeviceMemoryPool.Stats memory() {
        return runtime.pool().stats();
    }

    @Override
    public String name() {
        return "cuda " + runtime.device().name();
    }

    @Override
    public TensorOps tensors() {
        return runtime.tensors();
    }

    @Override
    public LayerOps layers() {
        return layers;
    }

    @Override
    public OptimizerOps optimizer() {
        return optimizer;
    }

    @Override
    public DType activationType() {
        return DType.BF16;
    }

    @Override
    public void synchronize() {
        runtime.device().synchronize();
    }

    @Override
    public void close() {
        runtime.close();
    }
}
