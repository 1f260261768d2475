package io.pgolf.gpu.cuda;

import io.pgolf.gpu.Tensor;
import jcuda.NativePointerObject;
import jcuda.Pointer;

import java.util.ArrayList;
import java.util.List;

/**
 * The parameters of one kernel launch, in the kernel's order. A tensor goes in as its address followed by its
 * dtype code ({@link #tensor}), the convention of src/main/cuda/pgolf.cuh, or as a bare address ({@link #pointer}).
 */
public final class KernelArgs {
    private final List<NativePointerObject> values = new ArrayList<>();

    private KernelArgs() {
    }

    public static KernelArgs of() {
        return new KernelArgs();
    }

    /** The tensor's address and its dtype code (DType's ordinal). */
    public KernelArgs tensor(Tensor t) {
        CudaTensor c = CudaTensor.of(t);
        return address(c.address()).i32(c.dtype().ordinal());
    }

    /** Like {@link #tensor}, or a null address and dtype code 0 when {@code t} is null (an optional operand). */
    public KernelArgs tensorOrNull(Tensor t) {
        return t == null ? address(0).i32(0) : tensor(t);
    }

    /** The tensor's address alone. */
    public KernelArgs pointer(Tensor t) {
        return address(CudaTensor.of(t).address());
    }

    public KernelArgs address(long address) {
        values.add(Pointer.to(new long[] {address}));
        return this;
    }

    public KernelArgs i32(int value) {
        values.add(Pointer.to(new int[] {value}));
        return this;
    }

    public KernelArgs i64(long value) {
        values.add(Pointer.to(new long[] {value}));
        return this;
    }

    public KernelArgs f32(float value) {
        values.add(Pointer.to(new float[] {value}));
        return this;
    }

    Pointer toPointer() {
        return Pointer.to(values.toArray(NativePointerObject[]::new));
    }
}
