package io.pgolf.gpu.cpu;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.TensorOps;

/** The reference backend: multi-threaded plain Java in float32. */
public final class CpuBackend implements Backend {
    private final CpuThreads threads;
    private final CpuTensorOps tensors;
    private final CpuLayerOps layers;
    private final CpuOptimizerOps optimizer;

    public CpuBackend(int threads) {
        this.threads = new CpuThreads(threads);
        this.tensors = new CpuTensorOps(this.threads);
        this.layers = new CpuLayerOps(this.threads, this.tensors);
        this.optimizer = new CpuOptimizerOps(this.threads);
    }

    /** A backend using every core. */
    public static CpuBackend allCores() {
        return new CpuBackend(Runtime.getRuntime().availableProcessors());
    }

    @Override
    public String name() {
        return "cpu x" + threads.threads();
    }

    @Override
    public TensorOps tensors() {
        return tensors;
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
        return DType.F32;
    }

    @Override
    public void close() {
        threads.close();
    }
}
