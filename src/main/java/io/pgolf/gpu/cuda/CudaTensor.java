package io.pgolf.gpu.cuda;

import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;

import java.util.Arrays;

/** A row-major tensor in device memory, a block of its backend's {@link DeviceMemoryPool}. */
public final class CudaTensor implements Tensor {
    private final DType dtype;
    private final int[] shape;
    private final long size;
    private final DeviceMemoryPool pool;
    private DeviceMemoryPool.Block block;

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

    /** The device address of element 0; fails once closed. */
    public long address() {
        return live().address();
    }

    DeviceMemoryPool.Block block() {
        return live();
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
