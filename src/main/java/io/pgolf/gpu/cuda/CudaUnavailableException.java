package io.pgolf.gpu.cuda;

/** The CUDA backend cannot start here: no driver or GPU, no cuBLAS 13, or kernels that were never compiled. */
public final class CudaUnavailableException extends RuntimeException {
    public CudaUnavailableException(String message) {
        super(message);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
