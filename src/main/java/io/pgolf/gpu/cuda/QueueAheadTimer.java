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
 * The GPU's own time for a piece of work, without the gaps in which it waits for the host to queue the next kernel:
 * {@link #holdAndStart} first queues a kernel that keeps the stream busy for a while, so that the host queues the work
 * behind it before the GPU reaches any of it, then the start event; {@link #stop} queues the end event. Set against
 * the same work's wall time when the host issues it as usual, it bounds what replaying the work as a CUDA graph (one
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
     * Holds the stream for {@code hold} (long enough for the host to queue the whole piece of work), then marks the
     * start.
     */
    public void holdAndStart(Duration hold) {
        if (hold.isNegative() || hold.isZero()) {
            throw new IllegalArgumentException("the hold must be positive, got " + hold);
        }
        runtime.kernels().launch("pg_hold", KernelModules.Dim3.of(1), KernelModules.Dim3.of(1), 0,
                KernelArgs.of().i64(hold.toNanos()));
        cuEventRecord(start, runtime.device().stream());
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
