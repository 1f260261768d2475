package io.pgolf.gpu.cuda;

import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Locale;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

/**
 * One GEMM problem's cuBLASLt state, made on its first call and reused by every later one (a training step makes
 * thousands of calls of a few dozen problems): the operation and layout descriptors, the heuristic's candidate
 * algorithms and which one runs. The first call runs the {@link GemmAlgorithmTrial} on the caller's own operands,
 * all timed calls queued back to back between events, then keeps the winner and makes the real call with it, so
 * every result, the first included, comes from the chosen algorithm. The timed calls overwrite C; when beta is not
 * zero C is an input too, so it is saved to the host before and written back after (no device memory is taken:
 * C can be a 100 MB activation gradient at the step's peak of memory).
 */
final class GemmPlan implements AutoCloseable {
    private static final int HOST_CHUNK = 1 << 30;

    private final GemmProblem problem;
    private final CublasLt lt;
    private final CudaDevice device;
    private final Arena algorithms = Arena.ofShared();
    private final MemorySegment operation;
    private final MemorySegment aLayout;
    private final MemorySegment bLayout;
    private final MemorySegment cLayout;
    private final List<CublasLt.Candidate> candidates;
    private final GemmAlgorithmTrial trial;
    private int chosen = -1;
    private float[] bestMillis;

    /** The plan for {@code problem}; fails, naming the problem, when cuBLASLt has no algorithm for it. */
    GemmPlan(CublasLt lt, CudaDevice device, GemmProblem problem, MemorySegment preference,
             GemmAlgorithmSelection selection) {
        this.problem = problem;
        this.lt = lt;
        this.device = device;
        MemorySegment op = null;
        MemorySegment a = null;
        MemorySegment b = null;
        MemorySegment c = null;
        try {
            op = lt.createOperation(problem.transA(), problem.transB());
            a = operandLayout(lt, problem, problem.transA(), problem.m(), problem.k(), problem.lda(), problem.strideA());
            b = operandLayout(lt, problem, problem.transB(), problem.k(), problem.n(), problem.ldb(), problem.strideB());
            c = lt.createLayout(problem.cType(), problem.m(), problem.n(), problem.ldc(), problem.batch(),
                    problem.strideC());
            this.candidates = lt.candidates(op, a, b, c, preference, selection.candidatesRequested(), algorithms);
            if (candidates.isEmpty()) {
                throw new IllegalStateException("cuBLASLt has no algorithm for gemm " + problem.describe() + " ("
                        + problem.columnMajor() + ")");
            }
        } catch (RuntimeException e) {
            destroy(op, a, b, c);
            algorithms.close();
            throw e;
        }
        this.operation = op;
        this.aLayout = a;
        this.bLayout = b;
        this.cLayout = c;
        this.trial = new GemmAlgorithmTrial(candidates.size());
    }

    /**
     * Queues C = alpha op(A) op(B) + beta C on the device's stream (alpha and beta: host floats; c: the block that
     * holds C, which the first call may save and restore); the first call waits for its trial.
     */
    void run(MemorySegment alpha, long a, long b, MemorySegment beta, DeviceMemoryPool.Block c, long workspace,
             long workspaceBytes) {
        if (chosen < 0) {
            choose(alpha, a, b, beta, c, workspace, workspaceBytes);
        }
        matmul(chosen, alpha, a, b, beta, c.address(), workspace, workspaceBytes);
    }

    /** The problem and its algorithm: which candidate won and the times of the winner and of the heuristic's first. */
    String describe() {
        String shape = problem.describe();
        if (chosen < 0) {
            throw new IllegalStateException("gemm " + shape + " has not chosen its algorithm yet");
        }
        String algorithm = String.format(Locale.ROOT, "%s, workspace %d KiB",
                lt.describe(candidates.get(chosen).algo()), candidates.get(chosen).workspaceBytes() >> 10);
        if (bestMillis == null) {
            return String.format(Locale.ROOT, "%s: the heuristic's first of %d candidates (%s)", shape,
                    candidates.size(), algorithm);
        }
        return String.format(Locale.ROOT, "%s: candidate %d of %d, %.3f ms (heuristic's first %.3f ms) (%s)", shape,
                chosen, candidates.size(), bestMillis[chosen], bestMillis[0], algorithm);
    }

    @Override
    public void close() {
        destroy(operation, aLayout, bLayout, cLayout);
        algorithms.close();
    }

    private void choose(MemorySegment alpha, long a, long b, MemorySegment beta, DeviceMemoryPool.Block c,
                        long workspace, long workspaceBytes) {
        if (trial.calls() == 0) {
            chosen = 0;
            return;
        }
        byte[][] savedC = problem.betaZero() ? null : saveToHost(c, problem.cBytes());
        CUevent[] events = new CUevent[2 * trial.calls()];
        try {
            for (int i = 0; i < events.length; i++) {
                events[i] = new CUevent();
                cuEventCreate(events[i], CUevent_flags.CU_EVENT_DEFAULT);
            }
            for (int call = 0; call < trial.calls(); call++) {
                cuEventRecord(events[2 * call], device.stream());
                matmul(trial.candidateOfCall(call), alpha, a, b, beta, c.address(), workspace, workspaceBytes);
                cuEventRecord(events[2 * call + 1], device.stream());
            }
            cuEventSynchronize(events[events.length - 1]);
            float[] millis = new float[trial.calls()];
            float[] elapsed = new float[1];
            for (int call = 0; call < millis.length; call++) {
                cuEventElapsedTime(elapsed, events[2 * call], events[2 * call + 1]);
                millis[call] = elapsed[0];
            }
            bestMillis = trial.bestMillis(millis);
            chosen = trial.winner(millis);
        } finally {
            for (CUevent event : events) {
                if (event != null) {
                    cuEventDestroy(event);
                }
            }
        }
        if (savedC != null) {
            restoreFromHost(savedC, c);
        }
    }

    /** The first {@code bytes} of {@code block}, in chunks of at most {@value #HOST_CHUNK} bytes (Java arrays). */
    private static byte[][] saveToHost(DeviceMemoryPool.Block block, long bytes) {
        byte[][] chunks = new byte[Math.toIntExact(Math.ceilDiv(bytes, HOST_CHUNK))][];
        for (int i = 0; i < chunks.length; i++) {
            chunks[i] = new byte[(int) Math.min(HOST_CHUNK, bytes - (long) i * HOST_CHUNK)];
            cuMemcpyDtoH(Pointer.to(chunks[i]), block.withByteOffset((long) i * HOST_CHUNK), chunks[i].length);
        }
        return chunks;
    }

    private static void restoreFromHost(byte[][] chunks, DeviceMemoryPool.Block block) {
        for (int i = 0; i < chunks.length; i++) {
            cuMemcpyHtoD(block.withByteOffset((long) i * HOST_CHUNK), Pointer.to(chunks[i]), chunks[i].length);
        }
    }

    private void matmul(int candidate, MemorySegment alpha, long a, long b, MemorySegment beta, long c,
                        long workspace, long workspaceBytes) {
        int status = lt.matmul(operation, alpha, a, aLayout, b, bLayout, beta, c, cLayout,
                candidates.get(candidate).algo(), workspace, workspaceBytes, device.streamAddress());
        if (status != 0) {
            throw new IllegalStateException(String.format(Locale.ROOT, "cublasLtMatmul failed with %s for gemm %s"
                    + " (%s; candidate %d of %d: %s)", lt.statusText(status), problem.describe(),
                    problem.columnMajor(), candidate, candidates.size(), lt.describe(candidates.get(candidate).algo())));
        }
    }

    /**
     * The layout of operand op(X) [rows, cols] of {@code problem}: X as stored is cols x rows when transposed, with
     * leading dimension {@code ld} and, in a batch, {@code stride} elements between products.
     */
    private static MemorySegment operandLayout(CublasLt lt, GemmProblem problem, boolean transposed, int rows,
                                               int cols, int ld, long stride) {
        return transposed ? lt.createLayout(problem.abType(), cols, rows, ld, problem.batch(), stride)
                : lt.createLayout(problem.abType(), rows, cols, ld, problem.batch(), stride);
    }

    private void destroy(MemorySegment op, MemorySegment a, MemorySegment b, MemorySegment c) {
        if (op != null) {
            lt.destroyOperation(op);
        }
        for (MemorySegment layout : new MemorySegment[] {a, b, c}) {
            if (layout != null) {
                lt.destroyLayout(layout);
            }
        }
    }
}
