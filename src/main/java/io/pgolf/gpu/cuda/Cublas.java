package io.pgolf.gpu.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuBLAS 13 through Java's foreign function API (JCublas 12 needs libcublas.so.12, which CUDA 13 machines lack):
 * a handle bound to the device's stream and {@code cublasGemmEx} with float32 accumulation. Matrices are
 * column-major here, as cuBLAS sees them; {@link CudaTensorOps} maps its row-major tensors onto this.
 */
final class Cublas implements AutoCloseable {
    /** cudaDataType values. */
    static final int CUDA_R_32F = 0;
    static final int CUDA_R_16BF = 14;
    /** cublasComputeType_t: float32 accumulation. */
    private static final int CUBLAS_COMPUTE_32F = 68;
    private static final int CUBLAS_GEMM_DEFAULT = -1;

    private final Arena arena = Arena.ofShared();
    private final MethodHandle gemmEx;
    private final MethodHandle destroy;
    private final MemorySegment handle;
    private final MemorySegment alpha;
    private final MemorySegment beta;
    private final Path library;

    private Cublas(Path library, SymbolLookup lookup, long stream) {
        this.library = library;
        Linker linker = Linker.nativeLinker();
        MethodHandle create = linker.downcallHandle(symbol(lookup, "cublasCreate_v2"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle setStream = linker.downcallHandle(symbol(lookup, "cublasSetStream_v2"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        this.destroy = linker.downcallHandle(symbol(lookup, "cublasDestroy_v2"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // cublasGemmEx(handle, transa, transb, m, n, k, alpha*, A, Atype, lda, B, Btype, ldb, beta*, C, Ctype, ldc,
        //              computeType, algo)
        this.gemmEx = linker.downcallHandle(symbol(lookup, "cublasGemmEx"), FunctionDescriptor.of(JAVA_INT,
                ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT,
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        MemorySegment handleOut = arena.allocate(ADDRESS);
        check("cublasCreate", invokeInt(create, handleOut));
        this.handle = handleOut.get(ADDRESS, 0);
        check("cublasSetStream", invokeInt(setStream, handle, stream));
        this.alpha = arena.allocate(ValueLayout.JAVA_FLOAT);
        this.beta = arena.allocate(ValueLayout.JAVA_FLOAT);
    }

    /**
     * Opens libcublas.so.13 from $PGOLF_CUBLAS (a file), $CUDA_HOME/lib64, /usr/local/cuda/lib64 or the loader's
     * search path, in that order, with a handle on {@code device}'s stream.
     */
    static Cublas open(CudaDevice device) {
        List<String> tried = new ArrayList<>();
        for (Path candidate : candidates()) {
            tried.add(candidate.toString());
            if (Files.isRegularFile(candidate)) {
                device.makeCurrent();
                return new Cublas(candidate, SymbolLookup.libraryLookup(candidate, Arena.global()),
                        device.streamAddress());
            }
        }
        tried.add("libcublas.so.13 on the loader's path");
        try {
            SymbolLookup lookup = SymbolLookup.libraryLookup("libcublas.so.13", Arena.global());
            device.makeCurrent();
            return new Cublas(Path.of("libcublas.so.13"), lookup, device.streamAddress());
        } catch (IllegalArgumentException notFound) {
            throw new CudaUnavailableException("cuBLAS 13 (libcublas.so.13) not found; tried " + tried
                    + ". Set PGOLF_CUBLAS to the library file.", notFound);
        }
    }

    /**
     * C = alpha * op(A) op(B) + beta * C in cuBLAS's column-major terms (m x n result, inner size k), accumulating in
     * float32; a and b have type {@code abType} (both), c has {@code cType}.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alphaValue, long a, int lda, long b, int ldb,
              int abType, float betaValue, long c, int ldc, int cType) {
        alpha.set(ValueLayout.JAVA_FLOAT, 0, alphaValue);
        beta.set(ValueLayout.JAVA_FLOAT, 0, betaValue);
        int status;
        try {
            status = (int) gemmEx.invokeExact(handle, transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, abType, lda,
                    b, abType, ldb, beta, c, cType, ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        } catch (Throwable t) {
            throw new IllegalStateException("cublasGemmEx could not be called", t);
        }
        if (status != 0) {
            throw new IllegalStateException(String.format("cublasGemmEx failed with status %d (m %d, n %d, k %d,"
                    + " lda %d, ldb %d, ldc %d, ab type %d, c type %d)", status, m, n, k, lda, ldb, ldc, abType, cType));
        }
    }

    Path library() {
        return library;
    }

    @Override
    public void close() {
        try {
            check("cublasDestroy", invokeInt(destroy, handle));
        } finally {
            arena.close();
        }
    }

    private static List<Path> candidates() {
        List<Path> paths = new ArrayList<>();
        String explicit = System.getenv("PGOLF_CUBLAS");
        if (explicit != null && !explicit.isBlank()) {
            paths.add(Path.of(explicit));
        }
        String cudaHome = System.getenv("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) {
            paths.add(Path.of(cudaHome, "lib64", "libcublas.so.13"));
        }
        paths.add(Path.of("/usr/local/cuda/lib64/libcublas.so.13"));
        return paths;
    }

    private static MemorySegment symbol(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new CudaUnavailableException("libcublas has no symbol " + name
                + "; pgolf needs cuBLAS 13"));
    }

    private static int invokeInt(MethodHandle function, Object... args) {
        try {
            return (int) function.invokeWithArguments(args);
        } catch (Throwable t) {
            throw new IllegalStateException("cuBLAS call failed", t);
        }
    }

    private static void check(String call, int status) {
        if (status != 0) {
            throw new IllegalStateException(call + " failed with cuBLAS status " + status);
        }
    }
}
