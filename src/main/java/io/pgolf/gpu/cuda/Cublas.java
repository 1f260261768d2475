package io.pgolf.gpu.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * pgolf's GEMMs through cuBLASLt 13 (JCublas 12 needs libcublas.so.12, which CUDA 13 machines lack), with float32
 * accumulation, on the device's stream, with one workspace from the device's pool. Each distinct problem (shape,
 * transposes, types, beta zero or not) gets a {@link GemmPlan} on its first call, which keeps its descriptors and
 * its algorithm, chosen as {@link GemmAlgorithmSelection} says; the choice is fixed once made, and a fixed
 * algorithm with a fixed workspace gives the same bits on every call. Matrices are column-major here, as cuBLAS
 * sees them; {@link CudaTensorOps} maps its row-major tensors onto this.
 */
final class Cublas implements AutoCloseable {
    /** Enough for the split-K and stream-K algorithms of pgolf's shapes; Hopper's cuBLAS takes 32 MiB by default. */
    static final long WORKSPACE_BYTES = 32L << 20;

    private final CublasLt lt;
    private final CudaDevice device;
    private final DeviceMemoryPool pool;
    private final DeviceMemoryPool.Block workspace;
    private final MemorySegment preference;
    private final GemmAlgorithmSelection selection;
    private final Map<GemmProblem, GemmPlan> plans = new LinkedHashMap<>();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment alpha = arena.allocate(ValueLayout.JAVA_FLOAT);
    private final MemorySegment beta = arena.allocate(ValueLayout.JAVA_FLOAT);

    private Cublas(CublasLt lt, CudaDevice device, DeviceMemoryPool pool, GemmAlgorithmSelection selection,
                   MemorySegment preference, DeviceMemoryPool.Block workspace) {
        this.lt = lt;
        this.device = device;
        this.pool = pool;
        this.selection = selection;
        this.preference = preference;
        this.workspace = workspace;
    }

    /**
     * Opens cuBLASLt (see {@link CublasLt#open}) for {@code device}, its workspace taken from {@code pool}, the
     * algorithm selection read from $PGOLF_GEMM_AUTOTUNE.
     */
    static Cublas open(CudaDevice device, DeviceMemoryPool pool) {
        GemmAlgorithmSelection selection = GemmAlgorithmSelection.of(System.getenv(GemmAlgorithmSelection.VARIABLE));
        device.makeCurrent();
        CublasLt lt = CublasLt.open();
        MemorySegment preference = null;
        try {
            preference = lt.createPreference(WORKSPACE_BYTES);
            return new Cublas(lt, device, pool, selection, preference, pool.allocate(WORKSPACE_BYTES));
        } catch (RuntimeException e) {
            if (preference != null) {
                lt.destroyPreference(preference);
            }
            lt.close();
            throw e;
        }
    }

    /**
     * C = alpha * op(A) op(B) + beta * C in cuBLAS's column-major terms (m x n result, inner size k), accumulating in
     * float32; a and b are device addresses of type {@code abType} (both), C starts block {@code c} and has
     * {@code cType} (cudaDataType values of {@link CublasLt}). A problem's first call waits for its trial.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alphaValue, long a, int lda, long b, int ldb,
              int abType, float betaValue, DeviceMemoryPool.Block c, int ldc, int cType) {
        run(new GemmProblem(transA, transB, m, n, k, lda, ldb, ldc, abType, cType, betaValue == 0f), alphaValue, a, b,
                betaValue, c);
    }

    /**
     * {@link #gemm} of {@code batch} products at fixed strides (in elements): C_i = alpha op(A_i) op(B_i) + beta C_i
     * with A_i at a + i strideA, B_i at b + i strideB and C_i at c + i strideC, one cuBLASLt call.
     */
    void gemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alphaValue, long a, int lda,
                            long strideA, long b, int ldb, long strideB, int abType, float betaValue,
                            DeviceMemoryPool.Block c, int ldc, long strideC, int cType, int batch) {
        run(new GemmProblem(transA, transB, m, n, k, lda, ldb, ldc, abType, cType, betaValue == 0f, batch, strideA,
                strideB, strideC), alphaValue, a, b, betaValue, c);
    }

    private void run(GemmProblem problem, float alphaValue, long a, long b, float betaValue, DeviceMemoryPool.Block c) {
        device.makeCurrent();
        alpha.set(ValueLayout.JAVA_FLOAT, 0, alphaValue);
        beta.set(ValueLayout.JAVA_FLOAT, 0, betaValue);
        GemmPlan plan = plans.get(problem);
        if (plan != null) {
            plan.run(alpha, a, b, beta, c, workspace.address(), workspace.bytes());
            return;
        }
        // A plan is kept once its first call, which chooses its algorithm, has gone through.
        plan = new GemmPlan(lt, device, problem, preference, selection);
        try {
            plan.run(alpha, a, b, beta, c, workspace.address(), workspace.bytes());
        } catch (RuntimeException e) {
            plan.close();
            throw e;
        }
        plans.put(problem, plan);
    }

    Path library() {
        return lt.library();
    }

    GemmAlgorithmSelection selection() {
        return selection;
    }

    /** Each problem met so far, in first-call order, with its algorithm (see {@link GemmPlan#describe}). */
    List<String> algorithms() {
        return plans.values().stream().map(GemmPlan::describe).toList();
    }

    @Override
    public void close() {
        try {
            plans.values().forEach(GemmPlan::close);
            plans.clear();
            lt.destroyPreference(preference);
            pool.release(workspace);
        } finally {
            try {
                lt.close();
            } finally {
                arena.close();
            }
        }
    }
}
