package io.pgolf.gpu.cuda;

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

/**
 * One GEMM problem's cuBLASLt state, made on its first call and reused by every later one (a training step makes
 * thousands of calls of a few dozen problems): the operation and layout descriptors, the heuristic's candidate
 * algorithms and which one runs. While the {@link GemmAlgorithmTrial} lasts, each call runs the candidate the trial
 * names between two events on the stream; these are real calls on the caller's operands, so a product that adds
 * into C (beta 1) is computed exactly once, by one complete algorithm, and the trial needs no scratch memory. When
 * the last timed call is queued the plan waits for it, reads the times and keeps the winner from then on.
 */
final class GemmPlan implements AutoCloseable {
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
    private CUevent[] events;
    private int timedCalls;
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
            a = problem.transA() ? lt.createLayout(problem.abType(), problem.k(), problem.m(), problem.lda())
                    : lt.createLayout(problem.abType(), problem.m(), problem.k(), problem.lda());
            b = problem.transB() ? lt.createLayout(problem.abType(), problem.n(), problem.k(), problem.ldb())
                    : lt.createLayout(problem.abType(), problem.k(), problem.n(), problem.ldb());
            c = lt.createLayout(problem.cType(), problem.m(), problem.n(), problem.ldc());
            this.candidates = lt.candidates(op, a, b, c, preference, selection.candidatesRequested(), algorithms);
            if (candidates.isEmpty()) {
                throw new IllegalStateException(String.format(Locale.ROOT, "cuBLASLt has no algorithm for gemm %s"
                        + " (column-major m %d, n %d, k %d, lda %d, ldb %d, ldc %d)", problem.describe(), problem.m(),
                        problem.n(), problem.k(), problem.lda(), problem.ldb(), problem.ldc()));
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
        if (trial.calls() == 0) {
            chosen = 0;
        } else {
            events = new CUevent[2 * trial.calls()];
            for (int i = 0; i < events.length; i++) {
                events[i] = new CUevent();
                cuEventCreate(events[i], CUevent_flags.CU_EVENT_DEFAULT);
            }
        }
    }

    /** Queues C = alpha op(A) op(B) + beta C on the device's stream (alpha and beta: host floats). */
    void run(MemorySegment alpha, long a, long b, MemorySegment beta, long c, long workspace, long workspaceBytes) {
        boolean timed = chosen < 0;
        int candidate = timed ? trial.candidateOfCall(timedCalls) : chosen;
        if (timed) {
            cuEventRecord(events[2 * timedCalls], device.stream());
        }
        int status = lt.matmul(operation, alpha, a, aLayout, b, bLayout, beta, c, cLayout,
                candidates.get(candidate).algo(), workspace, workspaceBytes, device.streamAddress());
        if (status != 0) {
            throw new IllegalStateException(String.format(Locale.ROOT, "cublasLtMatmul failed with %s for gemm %s"
                    + " (column-major m %d, n %d, k %d, lda %d, ldb %d, ldc %d; candidate %d of %d: %s)",
                    lt.statusText(status), problem.describe(), problem.m(), problem.n(), problem.k(), problem.lda(),
                    problem.ldb(), problem.ldc(), candidate, candidates.size(),
                    lt.describe(candidates.get(candidate).algo())));
        }
        if (timed) {
            cuEventRecord(events[2 * timedCalls + 1], device.stream());
            timedCalls++;
            if (timedCalls == trial.calls()) {
                finishTrial();
            }
        }
    }

    /**
     * The problem and its algorithm: which candidate won and the times of the winner and of the heuristic's first
     * choice, or how far the trial has come.
     */
    String describe() {
        String shape = problem.describe();
        if (chosen < 0) {
            return String.format(Locale.ROOT, "%s: trial of %d candidates, %d of %d timed calls run", shape,
                    candidates.size(), timedCalls, trial.calls());
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
        destroyEvents();
        destroy(operation, aLayout, bLayout, cLayout);
        algorithms.close();
    }

    private void finishTrial() {
        cuEventSynchronize(events[events.length - 1]);
        float[] millis = new float[trial.calls()];
        float[] elapsed = new float[1];
        for (int call = 0; call < millis.length; call++) {
            cuEventElapsedTime(elapsed, events[2 * call], events[2 * call + 1]);
            millis[call] = elapsed[0];
        }
        bestMillis = trial.bestMillis(millis);
        chosen = trial.winner(millis);
        destroyEvents();
    }

    private void destroyEvents() {
        if (events != null) {
            for (CUevent event : events) {
                cuEventDestroy(event);
            }
            events = null;
        }
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
