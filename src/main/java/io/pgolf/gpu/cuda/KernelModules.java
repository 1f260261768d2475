package io.pgolf.gpu.cuda;

import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

/**
 * pgolf's CUDA kernels: the fatbins the Maven build compiled from src/main/cuda (resources under
 * {@code io/pgolf/gpu/cuda/kernels/}, listed in {@code kernels.list}), loaded into the device's context, and launches
 * of their {@code extern "C"} functions by name on the device's stream.
 */
public final class KernelModules implements AutoCloseable {
    private static final String RESOURCES = "/io/pgolf/gpu/cuda/kernels/";
    private static final int DEFAULT_SHARED_LIMIT = 48 * 1024;

    private final CudaDevice device;
    private final Map<String, CUmodule> modules = new LinkedHashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<String, Integer> sharedLimits = new HashMap<>();

    private KernelModules(CudaDevice device) {
        this.device = device;
    }

    /** Loads every fatbin of the build; fails with a clear message when the build had no nvcc. */
    public static KernelModules load(CudaDevice device) {
        KernelModules kernels = new KernelModules(device);
        device.makeCurrent();
        for (String file : listedFatbins()) {
            CUmodule module = new CUmodule();
            cuModuleLoadData(module, resource(file));
            kernels.modules.put(file, module);
        }
        return kernels;
    }

    /** The fatbin names the build listed. */
    public static List<String> listedFatbins() {
        byte[] list = resourceOrNull("kernels.list");
        if (list == null) {
            throw new CudaUnavailableException("pgolf's CUDA kernels are missing from this build: nvcc was not found"
                    + " when it was compiled (see the build's NOTE); rebuild with nvcc on PATH or NVCC=/path/to/nvcc");
        }
        return new String(list, StandardCharsets.US_ASCII).lines().map(String::strip)
                .filter(line -> !line.isEmpty()).toList();
    }

    /**
     * Launches {@code kernel} on the device's stream: a grid of {@code grid} blocks of {@code block} threads
     * (x, y, z each), with {@code sharedBytes} of dynamic shared memory.
     */
    public void launch(String kernel, Dim3 grid, Dim3 block, int sharedBytes, KernelArgs args) {
        device.makeCurrent();
        CUfunction function = function(kernel);
        if (sharedBytes > DEFAULT_SHARED_LIMIT && sharedLimits.getOrDefault(kernel, DEFAULT_SHARED_LIMIT) < sharedBytes) {
            cuFuncSetAttribute(function, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                    sharedBytes);
            sharedLimits.put(kernel, sharedBytes);
        }
        cuLaunchKernel(function, grid.x(), grid.y(), grid.z(), block.x(), block.y(), block.z(), sharedBytes,
                device.stream(), args.toPointer(), null);
    }

    /** A 1-D launch of a grid-stride kernel over {@code n} elements: blocks of 256, at most 64 per multiprocessor. */
    public void launchElementwise(String kernel, long n, KernelArgs args) {
        int blocks = (int) Math.max(1, Math.min(Math.ceilDiv(n, 256), 64L * device.multiprocessors()));
        launch(kernel, Dim3.of(blocks), Dim3.of(256), 0, args);
    }

    /** The names of the loaded fatbins. */
    public Set<String> modules() {
        return modules.keySet();
    }

    /** A launch shape: blocks in a grid or threads in a block. */
    public record Dim3(int x, int y, int z) {
        public Dim3 {
            if (x < 1 || y < 1 || z < 1) {
                throw new IllegalArgumentException("launch dimensions must be positive, got " + x + "x" + y + "x" + z);
            }
        }

        public static Dim3 of(int x) {
            return new Dim3(x, 1, 1);
        }

        public static Dim3 of(int x, int y) {
            return new Dim3(x, y, 1);
        }
    }

    @Override
    public void close() {
        device.makeCurrent();
        for (CUmodule module : modules.values()) {
            cuModuleUnload(module);
        }
        modules.clear();
        functions.clear();
    }

    private CUfunction function(String kernel) {
        CUfunction function = functions.get(kernel);
        if (function != null) {
            return function;
        }
        for (CUmodule module : modules.values()) {
            CUfunction candidate = new CUfunction();
            if (cuModuleGetFunctionQuietly(candidate, module, kernel)) {
                functions.put(kernel, candidate);
                return candidate;
            }
        }
        throw new IllegalArgumentException("no CUDA kernel named " + kernel + " in " + modules.keySet());
    }

    private static boolean cuModuleGetFunctionQuietly(CUfunction function, CUmodule module, String name) {
        try {
            cuModuleGetFunction(function, module, name);
            return true;
        } catch (jcuda.CudaException notInThisModule) {
            return false;
        }
    }

    private static byte[] resource(String file) {
        byte[] bytes = resourceOrNull(file);
        if (bytes == null) {
            throw new CudaUnavailableException("kernels.list names " + file + " but the build has no such resource");
        }
        return bytes;
    }

    private static byte[] resourceOrNull(String file) {
        try (InputStream in = KernelModules.class.getResourceAsStream(RESOURCES + file)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the kernel resource " + RESOURCES + file, e);
        }
    }
}
