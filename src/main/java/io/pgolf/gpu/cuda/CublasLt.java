package io.pgolf.gpu.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * cuBLASLt 13 (libcublasLt.so.13) through Java's foreign function API: a handle, the descriptors of a matrix
 * product (operation, one layout per matrix, heuristic preference), the heuristic's candidate algorithms and
 * {@code cublasLtMatmul}. Matrices are column-major, as cuBLAS sees them. Enum values and struct offsets are those
 * of cublasLt.h; descriptors are created by the library and destroyed through {@link #destroy}.
 */
final class CublasLt implements AutoCloseable {
    /** cudaDataType values. */
    static final int CUDA_R_32F = 0;
    static final int CUDA_R_16BF = 14;
    /** cublasComputeType_t: float32 accumulation (no TF32 or bf16 shortcuts). */
    private static final int CUBLAS_COMPUTE_32F = 68;
    private static final int CUBLAS_STATUS_NOT_SUPPORTED = 15;
    private static final int CUBLAS_OP_N = 0;
    private static final int CUBLAS_OP_T = 1;
    /** cublasLtMatmulDescAttributes_t (int32_t values). */
    private static final int MATMUL_DESC_TRANSA = 3;
    private static final int MATMUL_DESC_TRANSB = 4;
    /** cublasLtMatrixLayoutAttribute_t: BATCH_COUNT (int32_t), STRIDED_BATCH_OFFSET (int64_t, in elements). */
    private static final int LAYOUT_BATCH_COUNT = 5;
    private static final int LAYOUT_STRIDED_BATCH_OFFSET = 6;
    /** cublasLtMatmulPreferenceAttributes_t (a uint64_t value). */
    private static final int PREF_MAX_WORKSPACE_BYTES = 1;
    /** cublasLtMatmulHeuristicResult_t: algo (cublasLtMatmulAlgo_t, 64 bytes), size_t workspaceSize, int state. */
    private static final long HEURISTIC_RESULT_BYTES = 96;
    private static final long ALGO_BYTES = 64;
    private static final long RESULT_WORKSPACE_OFFSET = 64;
    private static final long RESULT_STATE_OFFSET = 72;
    private static final String LIBRARY = "libcublasLt.so.13";
    /** What a missing symbol's message adds. */
    private static final String REQUIREMENT = "pgolf needs cuBLASLt 13";

    /**
     * cublasLtMatmulAlgoConfigAttributes_t worth printing: id, value size in bytes and label. The id is int32_t,
     * inner and cluster shape ids are uint16_t, the rest uint32_t.
     */
    private static final List<ConfigAttribute> DESCRIBED = List.of(new ConfigAttribute(0, 4, "algo"),
            new ConfigAttribute(1, 4, "tile"), new ConfigAttribute(6, 4, "stages"),
            new ConfigAttribute(2, 4, "split-K"), new ConfigAttribute(3, 4, "reduction"),
            new ConfigAttribute(4, 4, "swizzle"), new ConfigAttribute(5, 4, "custom"),
            new ConfigAttribute(7, 2, "inner"), new ConfigAttribute(8, 2, "cluster"));

    private record ConfigAttribute(int id, int bytes, String label) {
    }

    /** One algorithm the heuristic proposes, in memory owned by the caller's arena, and the workspace it needs. */
    record Candidate(MemorySegment algo, long workspaceBytes) {
    }

    private final Arena arena = Arena.ofShared();
    private final Path path;
    private final NativeLibrary library;
    private final MemorySegment handle;
    private final MethodHandle destroyHandle;
    private final MethodHandle statusName;
    private final MethodHandle descCreate;
    private final MethodHandle descSetAttribute;
    private final MethodHandle descDestroy;
    private final MethodHandle layoutCreate;
    private final MethodHandle layoutSetAttribute;
    private final MethodHandle layoutDestroy;
    private final MethodHandle preferenceCreate;
    private final MethodHandle preferenceSetAttribute;
    private final MethodHandle preferenceDestroy;
    private final MethodHandle heuristic;
    private final MethodHandle matmul;
    private final MethodHandle configGetAttribute;

    private CublasLt(Path path, NativeLibrary library) {
        this.path = path;
        this.library = library;
        MethodHandle create = library.function("cublasLtCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        this.destroyHandle = library.function("cublasLtDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        this.statusName = library.function("cublasLtGetStatusName", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        this.descCreate = library.function("cublasLtMatmulDescCreate",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        this.descSetAttribute = library.function("cublasLtMatmulDescSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        this.descDestroy = library.function("cublasLtMatmulDescDestroy",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        this.layoutCreate = library.function("cublasLtMatrixLayoutCreate",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        this.layoutSetAttribute = library.function("cublasLtMatrixLayoutSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        this.layoutDestroy = library.function("cublasLtMatrixLayoutDestroy",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        this.preferenceCreate = library.function("cublasLtMatmulPreferenceCreate",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        this.preferenceSetAttribute = library.function("cublasLtMatmulPreferenceSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        this.preferenceDestroy = library.function("cublasLtMatmulPreferenceDestroy",
                FunctionDescriptor.of(JAVA_INT, ADDRESS));
        // (handle, desc, A, B, C, D layouts, preference, requested, results[], returned*)
        this.heuristic = library.function("cublasLtMatmulAlgoGetHeuristic", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        // (handle, desc, alpha*, A, Adesc, B, Bdesc, beta*, C, Cdesc, D, Ddesc, algo*, workspace, bytes, stream)
        this.matmul = library.function("cublasLtMatmul", FunctionDescriptor.of(JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS,
                JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        this.configGetAttribute = library.function("cublasLtMatmulAlgoConfigGetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
        MemorySegment handleOut = arena.allocate(ADDRESS);
        check("cublasLtCreate", library.call(create, handleOut));
        this.handle = handleOut.get(ADDRESS, 0);
    }

    /**
     * Opens libcublasLt.so.13 from $PGOLF_CUBLASLT (a file), next to $PGOLF_CUBLAS (the libcublas file),
     * $CUDA_HOME/lib64, /usr/local/cuda/lib64 or the loader's search path, in that order, with a handle.
     */
    static CublasLt open() {
        List<String> tried = new ArrayList<>();
        for (Path candidate : libraryCandidates(System.getenv())) {
            tried.add(candidate.toString());
            if (Files.isRegularFile(candidate)) {
                return new CublasLt(candidate,
                        new NativeLibrary(LIBRARY, SymbolLookup.libraryLookup(candidate, Arena.global()), REQUIREMENT));
            }
        }
        tried.add(LIBRARY + " on the loader's path");
        return new CublasLt(Path.of(LIBRARY), NativeLibrary.onLoaderPath(LIBRARY, REQUIREMENT, "cuBLASLt 13 ("
                + LIBRARY + ") not found; tried " + tried + ". Set PGOLF_CUBLASLT to the library file."));
    }

    /** The files {@link #open} tries before the loader's path, given the environment. */
    static List<Path> libraryCandidates(Map<String, String> environment) {
        List<Path> paths = new ArrayList<>();
        String explicit = environment.get("PGOLF_CUBLASLT");
        if (explicit != null && !explicit.isBlank()) {
            paths.add(Path.of(explicit));
        }
        String cublas = environment.get("PGOLF_CUBLAS");
        if (cublas != null && !cublas.isBlank()) {
            paths.add(Path.of(cublas).resolveSibling(LIBRARY));
        }
        String cudaHome = environment.get("CUDA_HOME");
        if (cudaHome != null && !cudaHome.isBlank()) {
            paths.add(Path.of(cudaHome, "lib64", LIBRARY));
        }
        paths.add(Path.of("/usr/local/cuda/lib64", LIBRARY));
        return paths;
    }

    Path library() {
        return path;
    }

    /** D = alpha op(A) op(B) + beta C with float32 accumulation and float32 alpha and beta. */
    MemorySegment createOperation(boolean transA, boolean transB) {
        MemorySegment desc = created("cublasLtMatmulDescCreate", descCreate, CUBLAS_COMPUTE_32F, CUDA_R_32F);
        try (Arena local = Arena.ofConfined()) {
            MemorySegment op = local.allocate(JAVA_INT);
            op.set(JAVA_INT, 0, transA ? CUBLAS_OP_T : CUBLAS_OP_N);
            check("cublasLtMatmulDescSetAttribute(TRANSA)", library.call(descSetAttribute, desc, MATMUL_DESC_TRANSA, op,
                    JAVA_INT.byteSize()));
            op.set(JAVA_INT, 0, transB ? CUBLAS_OP_T : CUBLAS_OP_N);
            check("cublasLtMatmulDescSetAttribute(TRANSB)", library.call(descSetAttribute, desc, MATMUL_DESC_TRANSB, op,
                    JAVA_INT.byteSize()));
        } catch (RuntimeException e) {
            destroyOperation(desc);
            throw e;
        }
        return desc;
    }

    /**
     * {@code batch} column-major rows x cols matrices of {@code type} with leading dimension {@code ld}, matrix i
     * starting {@code stride} elements after matrix i - 1 (the layout attributes BATCH_COUNT and
     * STRIDED_BATCH_OFFSET, set only for a batch of more than one).
     */
    MemorySegment createLayout(int type, long rows, long cols, long ld, int batch, long stride) {
        MemorySegment layout = created("cublasLtMatrixLayoutCreate", layoutCreate, type, rows, cols, ld);
        if (batch == 1) {
            return layout;
        }
        try (Arena local = Arena.ofConfined()) {
            MemorySegment count = local.allocate(JAVA_INT);
            count.set(JAVA_INT, 0, batch);
            check("cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)", library.call(layoutSetAttribute, layout,
                    LAYOUT_BATCH_COUNT, count, JAVA_INT.byteSize()));
            MemorySegment offset = local.allocate(JAVA_LONG);
            offset.set(JAVA_LONG, 0, stride);
            check("cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)", library.call(layoutSetAttribute, layout,
                    LAYOUT_STRIDED_BATCH_OFFSET, offset, JAVA_LONG.byteSize()));
        } catch (RuntimeException e) {
            destroyLayout(layout);
            throw e;
        }
        return layout;
    }

    /** Heuristic preferences that allow algorithms needing up to {@code workspaceBytes}. */
    MemorySegment createPreference(long workspaceBytes) {
        MemorySegment preference = created("cublasLtMatmulPreferenceCreate", preferenceCreate);
        try (Arena local = Arena.ofConfined()) {
            MemorySegment bytes = local.allocate(JAVA_LONG);
            bytes.set(JAVA_LONG, 0, workspaceBytes);
            check("cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)", library.call(preferenceSetAttribute,
                    preference, PREF_MAX_WORKSPACE_BYTES, bytes, JAVA_LONG.byteSize()));
        } catch (RuntimeException e) {
            destroyPreference(preference);
            throw e;
        }
        return preference;
    }

    /**
     * Up to {@code requested} algorithms for the operation and layouts (C is also D), best first by the
     * heuristic's estimate; their descriptors live in {@code owner}. Empty when the heuristic has none.
     */
    List<Candidate> candidates(MemorySegment operation, MemorySegment a, MemorySegment b, MemorySegment c,
                               MemorySegment preference, int requested, Arena owner) {
        MemorySegment results = owner.allocate(HEURISTIC_RESULT_BYTES * requested, 16);
        int count;
        try (Arena local = Arena.ofConfined()) {
            MemorySegment returned = local.allocate(JAVA_INT);
            int status = library.call(heuristic, handle, operation, a, b, c, c, preference, requested, results,
                    returned);
            if (status == CUBLAS_STATUS_NOT_SUPPORTED) {
                return List.of();
            }
            check("cublasLtMatmulAlgoGetHeuristic", status);
            count = returned.get(JAVA_INT, 0);
        }
        List<Candidate> candidates = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            MemorySegment result = results.asSlice(i * HEURISTIC_RESULT_BYTES, HEURISTIC_RESULT_BYTES);
            if (result.get(JAVA_INT, RESULT_STATE_OFFSET) == 0) {
                candidates.add(new Candidate(result.asSlice(0, ALGO_BYTES),
                        result.get(JAVA_LONG, RESULT_WORKSPACE_OFFSET)));
            }
        }
        return candidates;
    }

    /**
     * Queues D = C = alpha op(A) op(B) + beta C on {@code stream}; alpha and beta are host floats, read before this
     * returns. Returns the cuBLAS status (0 on success) for the caller to report with the problem's figures.
     */
    int matmul(MemorySegment operation, MemorySegment alpha, long a, MemorySegment aLayout, long b,
               MemorySegment bLayout, MemorySegment beta, long c, MemorySegment cLayout, MemorySegment algo,
               long workspace, long workspaceBytes, long stream) {
        try {
            return (int) matmul.invokeExact(handle, operation, alpha, a, aLayout, b, bLayout, beta, c, cLayout, c,
                    cLayout, algo, workspace, workspaceBytes, stream);
        } catch (Throwable t) {
            throw new IllegalStateException("cublasLtMatmul could not be called", t);
        }
    }

    /** The algorithm's configuration as cuBLASLt reports it, e.g. "algo 66, tile 20, stages 35, split-K 1, ...". */
    String describe(MemorySegment algo) {
        List<String> parts = new ArrayList<>();
        try (Arena local = Arena.ofConfined()) {
            MemorySegment value = local.allocate(JAVA_INT);
            MemorySegment written = local.allocate(JAVA_LONG);
            for (ConfigAttribute attribute : DESCRIBED) {
                value.set(JAVA_INT, 0, 0);
                int status = library.call(configGetAttribute, algo, attribute.id(), value, (long) attribute.bytes(),
                        written);
                // Signed, so that a split-K of "not applicable", (uint32_t) -1, reads as -1.
                String shown = status != 0 ? "unknown" : attribute.bytes() == 2
                        ? Integer.toString(Short.toUnsignedInt(value.get(JAVA_SHORT, 0)))
                        : Integer.toString(value.get(JAVA_INT, 0));
                parts.add(attribute.label() + " " + shown);
            }
        }
        return String.join(", ", parts);
    }

    void destroyOperation(MemorySegment operation) {
        check("cublasLtMatmulDescDestroy", library.call(descDestroy, operation));
    }

    void destroyLayout(MemorySegment layout) {
        check("cublasLtMatrixLayoutDestroy", library.call(layoutDestroy, layout));
    }

    void destroyPreference(MemorySegment preference) {
        check("cublasLtMatmulPreferenceDestroy", library.call(preferenceDestroy, preference));
    }

    /** "CUBLAS_STATUS_NOT_SUPPORTED (15)", for error messages. */
    String statusText(int status) {
        try {
            MemorySegment name = (MemorySegment) statusName.invokeExact(status);
            String text = name.equals(MemorySegment.NULL) ? "unknown status" : name.reinterpret(128).getString(0);
            return String.format(Locale.ROOT, "%s (%d)", text, status);
        } catch (Throwable t) {
            return "status " + status;
        }
    }

    @Override
    public void close() {
        try {
            check("cublasLtDestroy", library.call(destroyHandle, handle));
        } finally {
            arena.close();
        }
    }

    private MemorySegment created(String name, MethodHandle create, Object... args) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment out = local.allocate(ADDRESS);
            Object[] all = new Object[args.length + 1];
            all[0] = out;
            System.arraycopy(args, 0, all, 1, args.length);
            check(name, library.call(create, all));
            return out.get(ADDRESS, 0);
        }
    }

    private void check(String name, int status) {
        if (status != 0) {
            throw new IllegalStateException(name + " failed with " + statusText(status));
        }
    }
}
