package io.pgolf.gpu.cuda;

import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;

import java.nio.ByteOrder;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

/**
 * Host-to-device copies through page-locked (pinned) host buffers, queued on the device's stream so that the host
 * returns at once and goes on queuing work (a pageable copy waits for everything before it, which drains the
 * queue). The buffers take turns; before one is refilled, the copy that last read it is awaited through its event.
 * A forward pass uploads a dozen small tensors (token ids, row selectors, mixes), so there are enough buffers that
 * the awaited copy has long finished while the host runs ahead of the device.
 */
final class PinnedStaging implements AutoCloseable {
    private static final int SLOTS = 16;

    private final CudaDevice device;
    private final Pointer[] buffers = new Pointer[SLOTS];
    private final long[] capacities = new long[SLOTS];
    private final CUevent[] copied = new CUevent[SLOTS];
    private final boolean[] pending = new boolean[SLOTS];
    private int next;

    PinnedStaging(CudaDevice device) {
        this.device = device;
    }

    /** Queues a copy of {@code values} to {@code dst} on the stream. */
    void upload(int[] values, DeviceMemoryPool.Block dst) {
        long bytes = (long) values.length * Integer.BYTES;
        int slot = reserve(bytes);
        buffers[slot].getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()).asIntBuffer().put(values);
        queue(slot, dst, bytes);
    }

    /** Queues a copy of {@code values} to {@code dst} on the stream. */
    void upload(float[] values, DeviceMemoryPool.Block dst) {
        long bytes = (long) values.length * Float.BYTES;
        int slot = reserve(bytes);
        buffers[slot].getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()).asFloatBuffer().put(values);
        queue(slot, dst, bytes);
    }

    /** Queues a copy of {@code values} (16-bit words, e.g. bfloat16 bits) to {@code dst} on the stream. */
    void upload(short[] values, DeviceMemoryPool.Block dst) {
        long bytes = (long) values.length * Short.BYTES;
        int slot = reserve(bytes);
        buffers[slot].getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()).asShortBuffer().put(values);
        queue(slot, dst, bytes);
    }

    /** The next buffer, free for the host to fill and at least {@code bytes} long. */
    private int reserve(long bytes) {
        device.makeCurrent();
        int slot = next;
        next = (next + 1) % SLOTS;
        if (pending[slot]) {
            cuEventSynchronize(copied[slot]);
            pending[slot] = false;
        }
        ensureCapacity(slot, bytes);
        return slot;
    }

    private void queue(int slot, DeviceMemoryPool.Block dst, long bytes) {
        cuMemcpyHtoDAsync(dst, buffers[slot], bytes, device.stream());
        cuEventRecord(copied[slot], device.stream());
        pending[slot] = true;
    }

    private void ensureCapacity(int slot, long bytes) {
        if (capacities[slot] >= bytes) {
            return;
        }
        if (buffers[slot] != null) {
            cuMemFreeHost(buffers[slot]);
        } else {
            copied[slot] = new CUevent();
            cuEventCreate(copied[slot], CUevent_flags.CU_EVENT_DISABLE_TIMING);
        }
        long capacity = Math.max(bytes, 1L << 20);
        buffers[slot] = new Pointer();
        cuMemAllocHost(buffers[slot], capacity);
        capacities[slot] = capacity;
    }

    @Override
    public void close() {
        device.makeCurrent();
        for (int slot = 0; slot < SLOTS; slot++) {
            if (buffers[slot] != null) {
                if (pending[slot]) {
                    cuEventSynchronize(copied[slot]);
                }
                cuMemFreeHost(buffers[slot]);
                cuEventDestroy(copied[slot]);
                buffers[slot] = null;
            }
        }
    }
}
