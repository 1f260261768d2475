package io.pgolf.gpu.cuda;

import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;

/**
 * A caching allocator of device memory: a freed block goes back to a free list of its size class and the next
 * request of that class reuses it without a driver call ({@code cuMemAlloc} synchronizes the device and costs
 * microseconds; a training step allocates thousands of activations). Reuse is safe without events because every
 * kernel of a backend runs on one stream, in order: work queued after the free cannot overtake work queued before.
 *
 * <p>Size classes: multiples of 512 bytes up to 1 MiB, multiples of 2 MiB above. When the driver runs out of
 * memory the cache is released and the allocation tried once more before failing with the pool's figures.
 */
public final class DeviceMemoryPool implements AutoCloseable {
    private static final long SMALL_GRANULE = 512;
    private static final long SMALL_LIMIT = 1L << 20;
    private static final long LARGE_GRANULE = 2L << 20;

    private final CudaDevice device;
    private final Map<Long, ArrayDeque<Block>> free = new HashMap<>();
    private long inUseBytes;
    private long peakInUseBytes;
    private long reservedBytes;
    private long peakReservedBytes;
    private long driverAllocations;
    private boolean closed;

    /** A block of device memory of one size class. */
    public static final class Block extends CUdeviceptr {
        private final long bytes;

        private Block(long bytes) {
            this.bytes = bytes;
        }

        /** The device address, as kernels and cuBLAS take it. */
        public long address() {
            return getNativePointer();
        }

        public long bytes() {
            return bytes;
        }
    }

    public DeviceMemoryPool(CudaDevice device) {
        this.device = device;
    }

    /** A block of at least {@code bytes} (contents undefined). */
    public synchronized Block allocate(long bytes) {
        if (closed) {
            throw new IllegalStateException("the device memory pool is closed");
        }
        long size = sizeClass(Math.max(bytes, 1));
        ArrayDeque<Block> list = free.get(size);
        Block block = list == null ? null : list.pollLast();
        if (block == null) {
            block = allocateFromDriver(size);
        }
        inUseBytes += size;
        peakInUseBytes = Math.max(peakInUseBytes, inUseBytes);
        return block;
    }

    /** Zero-fills the first {@code bytes} of a block on the device's stream (in order with the kernels). */
    void zeroFill(Block block, long bytes) {
        device.makeCurrent();
        cuMemsetD8Async(block, (byte) 0, bytes, device.stream());
    }

    /** Returns a block to its free list. */
    public synchronized void release(Block block) {
        if (closed) {
            return;
        }
        inUseBytes -= block.bytes;
        free.computeIfAbsent(block.bytes, k -> new ArrayDeque<>()).addLast(block);
    }

    /** Gives every cached (unused) block back to the driver. */
    public synchronized void releaseCache() {
        device.makeCurrent();
        for (ArrayDeque<Block> list : free.values()) {
            for (Block block : list) {
                cuMemFree(block);
                reservedBytes -= block.bytes;
            }
        }
        free.clear();
    }

    public synchronized Stats stats() {
        return new Stats(inUseBytes, peakInUseBytes, reservedBytes, peakReservedBytes, driverAllocations);
    }

    /** Starts a new peak measurement from the current figures. */
    public synchronized void resetPeaks() {
        peakInUseBytes = inUseBytes;
        peakReservedBytes = reservedBytes;
    }

    /**
     * Bytes handed out now and at most, bytes taken from the driver now and at most (in use plus cached), and how
     * many driver allocations were made.
     */
    public record Stats(long inUseBytes, long peakInUseBytes, long reservedBytes, long peakReservedBytes,
                        long driverAllocations) {
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        releaseCache();
        closed = true;
    }

    static long sizeClass(long bytes) {
        long granule = bytes <= SMALL_LIMIT ? SMALL_GRANULE : LARGE_GRANULE;
        return Math.ceilDiv(bytes, granule) * granule;
    }

    private Block allocateFromDriver(long size) {
        device.makeCurrent();
        Block block = new Block(size);
        try {
            cuMemAlloc(block, size);
        } catch (CudaException e) {
            if (!e.getMessage().contains(CUresult.stringFor(CUresult.CUDA_ERROR_OUT_OF_MEMORY))) {
                throw e;
            }
            releaseCache();
            try {
                cuMemAlloc(block, size);
            } catch (CudaException again) {
                throw new IllegalStateException(String.format(
                        "%s is out of memory allocating %,d bytes: %,d in use by pgolf (peak %,d), %,d of %,d on the"
                                + " device taken by pgolf", device.name(), size, inUseBytes, peakInUseBytes,
                        reservedBytes, device.totalMemory()), again);
            }
        }
        driverAllocations++;
        reservedBytes += size;
        peakReservedBytes = Math.max(peakReservedBytes, reservedBytes);
        return block;
    }
}
