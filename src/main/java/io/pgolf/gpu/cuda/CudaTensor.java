package io.pgolf.gpu.cuda;

import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;

import java.util.Arrays;

/**
 * A row-major tensor in device memory, a block of its backend's {@link DeviceMemoryPool}: it starts a driver
 * allocation, so its first element is aligned to 256 bytes and kernels may use any vector width on it.
 *
 * <p>A tensor may be a <em>pending zero</em> ({@link #setZero}): logically all zeros, its memory not yet written.
 * Most of the model's zero tensors are gradients whose first writer is a backward kernel that covers every element,
 * so instead of a fill followed by read-add-write passes that kernel can simply store ({@link KernelArgs#accumulating},
 * a GEMM with beta 0). Every other access to the memory ({@link #address}, {@link #block}) zero-fills it first.
 */
public final class CudaTensor implements Tensor {
    private final DType dtype;
    private final int[] shape;
    private final long size;
    private final DeviceMemoryPool pool;
    private DeviceMemoryPool.Block block;
    private boolean zeroPending;

    CudaTensor(DType dtype, int[] shape, DeviceMemoryPool pool) {
        this.dtype = dtype;
        this.shape = shape.clone();
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n *= d;
        }
        this.size = n;
        this.pool = pool;
        this.block = pool.allocate(n * dtype.bytes());
    }

    /** The CUDA tensor behind {@code t}, which must belong to a CUDA backend. */
    public static CudaTensor of(Tensor t) {
        if (t instanceof CudaTensor c) {
            return c;
        }
        throw new IllegalArgumentException("expected a CUDA tensor, got " + (t == null ? "null" : t.getClass().getName()));
    }

    /** The device address of element 0, the memory holding the tensor's values; fails once closed. */
    public long address() {
        return block().address();
    }

    DeviceMemoryPool.Block block() {
        DeviceMemoryPool.Block live = live();
        if (zeroPending) {
            zeroPending = false;
            pool.zeroFill(live, bytes());
        }
        return live;
    }

    /** Makes the tensor all zeros, to be written only when its memory is next used. */
    void setZero() {
        live();
        zeroPending = true;
    }

    boolean zeroPending() {
        return zeroPending;
    }

    /**
     * The memory for an operation about to write every element, which takes over the pending zero (it must store
     * where it would add, see {@link #zeroPending}): the memory is not filled.
     */
    DeviceMemoryPool.Block blockForOverwrite() {
        DeviceMemoryPool.Block live = live();
        zeroPending = false;
        return live;
    }

    public long bytes() {
        return size * dtype.bytes();
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public int[] shape() {
        return shape;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void close() {
        if (block != null) {
            pool.release(block);
            block = null;
        }
    }

    private DeviceMemoryPool.Block live() {
        if (block == null) {
            throw new IllegalStateException("a closed CUDA tensor " + describe() + " was used");
        }
        return block;
    }
}
