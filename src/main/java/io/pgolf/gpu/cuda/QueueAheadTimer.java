package io.pgolf.gpu.cuda;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;

import java.time.Duration;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;

/**
 * How long the GPU waits for the host in a piece of work: {@link #holdAndStart} queues a kernel that keeps the stream
 * busy for a while, then the start event; {@link #stop} queues the end event. Queued ahead, the host queues the whole
 * piece behind the hold before the GPU reaches any of it, so the events time the GPU's own work; issued live, the
 * host first waits for the hold to end and then queues the piece as training does, while the GPU runs it. Both runs
 * start from the same idle-then-busy pattern (a GPU's clocks depend on how hard it has just worked), so the
 * difference is the time the GPU spent waiting for the host: all that replaying the piece as a CUDA graph (one
 * launch, no host in between) could save.
 */
public final class QueueAheadTimer implements AutoCloseable {
    private final CudaRuntime runtime;
    private final CUevent start = new CUevent();
    private final CUevent end = new CUevent();
    private boolean closed;

    public QueueAheadTimer(CudaRuntime runtime) {
        this.runtime = runtime;
        runtime.device().makeCurrent();
        cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
        cuEventCreate(end, CUevent_flags.CU_EVENT_DEFAULT);
    }

    /**
     * Holds the stream for {@code hold} (longer than the host takes to queue the piece of work), then marks the start;
     * unless {@code queueAhead}, returns only once the hold is over, so that the host issues the work live.
     */
    public void holdAndStart(Duration hold, boolean queueAhead) {
        if (hold.isNegative() || hold.isZero()) {
            throw new IllegalArgumentException("the hold must be positive, got " + hold);
        }
        runtime.kernels().launch("pg_hold", KernelModules.Dim3.of(1), KernelModules.Dim3.of(1), 0,
                KernelArgs.of().i64(hold.toNanos()));
        cuEventRecord(start, runtime.device().stream());
        if (!queueAhead) {
            cuEventSynchronize(start);
        }
    }

    /** Marks the end of the work queued since {@link #holdAndStart}. */
    public void stop() {
        cuEventRecord(end, runtime.device().stream());
    }

    /** Milliseconds the GPU took from the start mark to the end mark; waits for the end. */
    public double elapsedMillis() {
        cuEventSynchronize(end);
        float[] millis = new float[1];
        cuEventElapsedTime(millis, start, end);
        return millis[0];
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        runtime.device().makeCurrent();
        cuEventDestroy(start);
        cuEventDestroy(end);
    }
}
