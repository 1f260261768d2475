package io.pgolf.gpu.cpu;

import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;

import java.util.Arrays;

/** A CPU tensor: float32 values in a float[] or int32 values in an int[], row-major. */
public final class CpuTensor implements Tensor {
    private final DType dtype;
    private final int[] shape;
    private final float[] floats;
    private final int[] ints;
    private boolean closed;

    private CpuTensor(DType dtype, int[] shape, float[] floats, int[] ints) {
        this.dtype = dtype;
        this.shape = shape.clone();
        this.floats = floats;
        this.ints = ints;
    }

    static CpuTensor zeros(DType dtype, int... shape) {
        long size = sizeOf(shape);
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a CPU tensor holds at most 2^31 elements, not " + size
                    + " " + Arrays.toString(shape));
        }
        return switch (dtype) {
            case F32 -> new CpuTensor(dtype, shape, new float[(int) size], null);
            case I32 -> new CpuTensor(dtype, shape, null, new int[(int) size]);
            case BF16 -> throw new IllegalArgumentException("the CPU backend computes in float32; BF16 is the GPU's");
        };
    }

    private static long sizeOf(int[] shape) {
        long size = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            size *= d;
        }
        return size;
    }

    /** The CPU tensor behind {@code t}, which must belong to a CPU backend. */
    public static CpuTensor of(Tensor t) {
        if (t instanceof CpuTensor c) {
            return c;
        }
        throw new IllegalArgumentException("not a CPU tensor: " + (t == null ? "null" : t.getClass().getName()));
    }

    /** The values of a live F32 tensor, shared, not copied. */
    public float[] floats() {
        requireOpen();
        if (floats == null) {
            throw new IllegalStateException("expected an F32 tensor, got " + describe());
        }
        return floats;
    }

    /** The values of a live I32 tensor, shared, not copied. */
    public int[] ints() {
        requireOpen();
        if (ints == null) {
            throw new IllegalStateException("expected an I32 tensor, got " + describe());
        }
        return ints;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("tensor " + describe() + " was closed");
        }
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
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "CpuTensor" + describe();
    }
}
