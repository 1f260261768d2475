package io.pgolf.gpu.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few NVML (libnvidia-ml.so.1, the driver's management library) queries pgolf reports while it trains: SM clock,
 * power draw and limit, temperature and why the clocks are held down. Through Java's foreign function API, as
 * cuBLASLt is; NVML is thread-safe, so a sampling thread may call it while the GPU works.
 */
final class Nvml implements AutoCloseable {
    private static final String LIBRARY = "libnvidia-ml.so.1";
    /** nvmlClockType_t NVML_CLOCK_SM and nvmlTemperatureSensors_t NVML_TEMPERATURE_GPU. */
    private static final int CLOCK_SM = 1;
    private static final int TEMPERATURE_GPU = 0;

    private final Arena arena = Arena.ofShared();
    private final NativeLibrary library;
    private final MethodHandle shutdown;
    private final MethodHandle errorString;
    private final MethodHandle handleByPciBusId;
    private final MethodHandle clockInfo;
    private final MethodHandle powerUsage;
    private final MethodHandle powerLimit;
    private final MethodHandle temperature;
    private final MethodHandle clockReasons;
    private final String clockReasonsName;
    private boolean closed;

    private Nvml(NativeLibrary library) {
        this.library = library;
        MethodHandle init = library.function("nvmlInit_v2", FunctionDescriptor.of(JAVA_INT));
        this.shutdown = library.function("nvmlShutdown", FunctionDescriptor.of(JAVA_INT));
        this.errorString = library.function("nvmlErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        this.handleByPciBusId = library.function("nvmlDeviceGetHandleByPciBusId_v2",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        this.clockInfo = library.function("nvmlDeviceGetClockInfo",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        this.powerUsage = library.function("nvmlDeviceGetPowerUsage",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        this.powerLimit = library.function("nvmlDeviceGetEnforcedPowerLimit",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        this.temperature = library.function("nvmlDeviceGetTemperature",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        // Drivers from 535 name it "clocks event reasons"; older ones only "throttle reasons" (same bits).
        String reasonsName = library.lookup().find("nvmlDeviceGetCurrentClocksEventReasons").isPresent()
                ? "nvmlDeviceGetCurrentClocksEventReasons" : "nvmlDeviceGetCurrentClocksThrottleReasons";
        this.clockReasonsName = reasonsName;
        this.clockReasons = library.function(reasonsName, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        check("nvmlInit_v2", library.call(init));
    }

    /** Loads and initializes NVML; a {@link CudaUnavailableException} says why it cannot. */
    static Nvml open() {
        return new Nvml(NativeLibrary.onLoaderPath(LIBRARY, "", "NVML (" + LIBRARY
                + ", part of the NVIDIA driver) not found on the loader's path"));
    }

    /** The NVML handle of the GPU at {@code pciBusId} (as CUDA gives it). */
    MemorySegment device(String pciBusId) {
        MemorySegment handle = arena.allocate(ADDRESS);
        check("nvmlDeviceGetHandleByPciBusId_v2(" + pciBusId + ")",
                library.call(handleByPciBusId, arena.allocateFrom(pciBusId), handle));
        return handle.get(ADDRESS, 0);
    }

    int smClockMhz(MemorySegment device) {
        return unsignedInt("nvmlDeviceGetClockInfo", out -> library.call(clockInfo, device, CLOCK_SM, out));
    }

    int powerMilliwatts(MemorySegment device) {
        return unsignedInt("nvmlDeviceGetPowerUsage", out -> library.call(powerUsage, device, out));
    }

    int powerLimitMilliwatts(MemorySegment device) {
        return unsignedInt("nvmlDeviceGetEnforcedPowerLimit", out -> library.call(powerLimit, device, out));
    }

    int temperatureC(MemorySegment device) {
        return unsignedInt("nvmlDeviceGetTemperature", out -> library.call(temperature, device, TEMPERATURE_GPU, out));
    }

    /** The bit set of reasons the clocks are below their maximum ({@link ClockReasons}). */
    long clockReasons(MemorySegment device) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(JAVA_LONG);
            check(clockReasonsName, library.call(clockReasons, device, out));
            return out.get(JAVA_LONG, 0);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        library.call(shutdown);
        arena.close();
    }

    private interface IntQuery {
        int run(MemorySegment out);
    }

    private int unsignedInt(String name, IntQuery query) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment out = call.allocate(JAVA_INT);
            check(name, query.run(out));
            return out.get(JAVA_INT, 0);
        }
    }

    private void check(String what, int status) {
        if (status != 0) {
            throw new CudaUnavailableException("NVML " + what + " failed: " + describe(status));
        }
    }

    private String describe(int status) {
        try {
            return ((MemorySegment) errorString.invokeExact(status)).reinterpret(256).getString(0) + " (status "
                    + status + ")";
        } catch (Throwable t) {
            return "status " + status;
        }
    }
}
