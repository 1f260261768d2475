package io.pgolf.gpu.cuda;

/**
 * What every CUDA operation class works with: one GPU, its memory pool, pgolf's kernels and cuBLAS, all bound to
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

    /** Opens GPU {@code ordinal} with pgolf's kernels and cuBLAS; a clear {@link CudaUnavailableException} if not. */
    public static CudaRuntime open(int ordinal) {
        KernelModules.listedFatbins();
        CudaDevice device = CudaDevice.open(ordinal);
        DeviceMemoryPool pool = null;
        KernelModules kernels = null;
        try {
            pool = new DeviceMemoryPool(device);
            kernels = KernelModules.load(device);
            Cublas cublas = Cublas.open(device);
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

    /** Where cuBLAS was loaded from, for logs. */
    public String cublasLibrary() {
        return cublas.library().toString();
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
