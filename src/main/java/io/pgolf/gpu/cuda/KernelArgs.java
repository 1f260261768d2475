package io.pgolf.gpu.cuda;

import io.pgolf.gpu.Tensor;
import jcuda.NativePointerObject;
import jcuda.Pointer;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parameters of one kernel launch, in the kernel's order. A tensor goes in as its address followed by its
 * dtype code ({@link #tensor}), the convention of src/main/cuda/pgolf.cuh, or as a bare address ({@link #pointer}).
 * Tensor addresses are resolved when the launch is made, so that a gradient output that is a pending zero
 * ({@link #accumulating}) can be handed to the kernel unfilled when nothing else in the launch touches it.
 */
public final class KernelArgs {
    /** PG_OVERWRITE of pgolf.cuh: the dtype code's flag for "store, do not add". */
    private static final int OVERWRITE = 16;

    private sealed interface Entry permits Value, Operand {
    }

    private record Value(NativePointerObject pointer) implements Entry {
    }

    private enum Access { READ, ACCUMULATE, OVERWRITE }

    private record Operand(CudaTensor tensor, boolean typed, Access access) implements Entry {
    }

    private final List<Entry> entries = new ArrayList<>();

    private KernelArgs() {
    }

    public static KernelArgs of() {
        return new KernelArgs();
    }

    /** The tensor's address and its dtype code (DType's ordinal). */
    public KernelArgs tensor(Tensor t) {
        entries.add(new Operand(CudaTensor.of(t), true, Access.READ));
        return this;
    }

    /**
     * Like {@link #tensor}, for a gradient output the kernel adds into through pg_accumulate / pg_accumulate_vec
     * alone, at every element: a pending zero goes in unfilled with PG_OVERWRITE on its dtype code.
     */
    public KernelArgs accumulating(Tensor t) {
        entries.add(new Operand(CudaTensor.of(t), true, Access.ACCUMULATE));
        return this;
    }

    /**
     * Like {@link #tensor}, with PG_OVERWRITE on its dtype code: an output the kernel stores whole through
     * pg_accumulate / pg_accumulate_vec whatever it held, also when it is an input of the same launch that the
     * kernel has read where it writes (a row replaced by its own gradient).
     */
    public KernelArgs overwriting(Tensor t) {
        entries.add(new Operand(CudaTensor.of(t), true, Access.OVERWRITE));
        return this;
    }

    /** Like {@link #accumulating}, or a null address and dtype code 0 when {@code t} is null (an optional output). */
    public KernelArgs accumulatingOrNull(Tensor t) {
        return t == null ? address(0).i32(0) : accumulating(t);
    }

    /** Like {@link #tensor}, or a null address and dtype code 0 when {@code t} is null (an optional operand). */
    public KernelArgs tensorOrNull(Tensor t) {
        return t == null ? address(0).i32(0) : tensor(t);
    }

    /** The tensor's address alone. */
    public KernelArgs pointer(Tensor t) {
        entries.add(new Operand(CudaTensor.of(t), false, Access.READ));
        return this;
    }

    public KernelArgs address(long address) {
        return value(Pointer.to(new long[] {address}));
    }

    public KernelArgs i32(int value) {
        return value(Pointer.to(new int[] {value}));
    }

    public KernelArgs i64(long value) {
        return value(Pointer.to(new long[] {value}));
    }

    public KernelArgs f32(float value) {
        return value(Pointer.to(new float[] {value}));
    }

    /** A parameter passed by value as its raw bytes, e.g. a {@code const __grid_constant__ CUtensorMap}. */
    public KernelArgs bytes(byte[] value) {
        return value(Pointer.to(value.clone()));
    }

    private KernelArgs value(NativePointerObject pointer) {
        entries.add(new Value(pointer));
        return this;
    }

    /**
     * The launch's parameter array. A pending-zero tensor that appears once, as an accumulating operand, is taken
     * over by the kernel (PG_OVERWRITE); one that appears more than once (dX and dX0 as one tensor) is zero-filled,
     * since the kernel's writes through one operand must be seen by the others.
     */
    Pointer toPointer() {
        Map<CudaTensor, Integer> uses = new IdentityHashMap<>();
        for (Entry e : entries) {
            if (e instanceof Operand o) {
                uses.merge(o.tensor(), 1, Integer::sum);
            }
        }
        List<NativePointerObject> values = new ArrayList<>(entries.size() + uses.size());
        for (Entry e : entries) {
            switch (e) {
                case Value v -> values.add(v.pointer());
                case Operand o -> {
                    CudaTensor t = o.tensor();
                    int code = t.dtype().ordinal();
                    if (o.access() == Access.OVERWRITE) {
                        values.add(Pointer.to(new long[] {t.address()}));
                        code |= OVERWRITE;
                    } else if (o.access() == Access.ACCUMULATE && t.zeroPending() && uses.get(t) == 1) {
                        values.add(Pointer.to(new long[] {t.blockForOverwrite().address()}));
                        code |= OVERWRITE;
                    } else {
                        values.add(Pointer.to(new long[] {t.address()}));
                    }
                    if (o.typed()) {
                        values.add(Pointer.to(new int[] {code}));
                    }
                }
            }
        }
        return Pointer.to(values.toArray(NativePointerObject[]::new));
    }
}
