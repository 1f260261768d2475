package io.pgolf.gpu.cuda;

import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceGetPCIBusId;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * One GPU through the CUDA driver API (JCuda): its primary context and the stream every kernel and GEMM of a backend
 * runs on, in issue order. The stream is a blocking one, so the synchronous copies on the legacy default stream
 * ({@code cuMemcpyHtoD}, {@code cuMemcpyDtoH}) wait for the work queued before them and the other way round.
 *
 * <p>A CUDA context is current per thread; {@link #makeCurrent()} binds it to the calling thread the first time
 * that thread uses the device, so an actor whose messages arrive on different threads of a pool stays correct (a
 * Trainer runs on a dedicated thread, where this happens once).
 */
public final class CudaDevice implements AutoCloseable {
    private final int ordinal;
    private final CUdevice device;
    private final CUcontext context;
    private final StreamHandle stream;
    private final String name;
    private final long totalMemory;
    private final int multiprocessors;
    private final int computeMajor;
    private final int computeMinor;
    private final ThreadLocal<Boolean> currentOnThread = ThreadLocal.withInitial(() -> false);
    private boolean closed;

    /** The driver's stream handle, whose address cuBLAS needs (JCuda keeps it protected). */
    static final class StreamHandle extends CUstream {
        long address() {
            return getNativePointer();
        }
    }

    private CudaDevice(int ordinal) {
        this.ordinal = ordinal;
        this.device = new CUdevice();
        cuDeviceGet(device, ordinal);
        byte[] nameBytes = new byte[256];
        cuDeviceGetName(nameBytes, nameBytes.length, device);
        this.name = cString(nameBytes);
        long[] memory = new long[1];
        cuDeviceTotalMem(memory, device);
        this.totalMemory = memory[0];
        this.multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        this.computeMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        this.computeMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        this.context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        makeCurrent();
        this.stream = new StreamHandle();
        cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT);
    }

    /**
     * Opens GPU {@code ordinal}. Fails with a {@link CudaUnavailableException} that says why when there is no
     * driver, no GPU of that number, or one older than compute capability 9.0 (the kernels are built for Hopper).
     */
    public static CudaDevice open(int ordinal) {
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (ordinal < 0 || ordinal >= count[0]) {
                throw new CudaUnavailableException("GPU " + ordinal + " does not exist: the driver sees " + count[0]
                        + " GPU(s)");
            }
            CudaDevice device = new CudaDevice(ordinal);
            if (device.computeMajor < 9) {
                device.close();
                throw new CudaUnavailableException(device.name + " has compute capability " + device.computeMajor
                        + "." + device.computeMinor + "; pgolf's kernels need 9.0 or newer (Hopper)");
            }
            return device;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            String why = String.valueOf(e.getMessage()).contains("libcuda.so")
                    ? "libcuda.so.1 (the NVIDIA driver) cannot be loaded" : String.valueOf(e.getMessage()).lines()
                    .findFirst().orElse("JCuda's native library did not load");
            throw new CudaUnavailableException("no CUDA driver here: " + why
                    + "; the CUDA backend needs an NVIDIA GPU with its driver (PGOLF_DEBUG=1 shows the details)", e);
        } catch (CudaException e) {
            throw new CudaUnavailableException("the CUDA driver could not open GPU " + ordinal + ": " + e.getMessage(),
                    e);
        }
    }

    /** Makes this device's context current on the calling thread (once per thread). */
    public void makeCurrent() {
        if (!currentOnThread.get()) {
            cuCtxSetCurrent(context);
            currentOnThread.set(true);
        }
    }

    /** Waits for everything queued on the stream. */
    public void synchronize() {
        makeCurrent();
        cuStreamSynchronize(stream);
    }

    CUstream stream() {
        return stream;
    }

    long streamAddress() {
        return stream.address();
    }

    public int ordinal() {
        return ordinal;
    }

    public String name() {
        return name;
    }

    public long totalMemory() {
        return totalMemory;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    public String computeCapability() {
        return computeMajor + "." + computeMinor;
    }

    /** The PCI bus id ("0000:1B:00.0"), by which NVML finds the same GPU whatever its numbering. */
    public String pciBusId() {
        String[] id = new String[1];
        cuDeviceGetPCIBusId(id, 64, device);
        return id[0];
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        makeCurrent();
        cuCtxSynchronize();
        cuStreamDestroy(stream);
        cuDevicePrimaryCtxRelease(device);
    }

    private int attribute(int attribute) {
        int[] value = new int[1];
        cuDeviceGetAttribute(value, attribute, device);
        return value[0];
    }

    private static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, java.nio.charset.StandardCharsets.US_ASCII);
    }
}
