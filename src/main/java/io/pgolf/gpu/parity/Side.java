package io.pgolf.gpu.parity;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Bfloat16;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;

/**
 * One backend's part in one run of an {@link OpCase}: it uploads the case's host values as that backend stores
 * them, allocates the outputs and remembers which tensors are the results to compare.
 *
 * <p>The candidate stores activations in its {@link Backend#activationType()}. The reference stores everything in
 * float32, but when the candidate keeps activations in bfloat16 the reference receives its activation inputs
 * already rounded to bfloat16: both then compute from the same values, and a difference measures the operation,
 * not the rounding of its inputs. Every tensor a side makes is closed with it.
 */
public final class Side implements AutoCloseable {
    /** What a run produced under one name: the values as float32 and the type they were stored in. */
    public record Observed(float[] values, DType dtype) {
    }

    private final Backend backend;
    private final DType activationType;
    private final boolean roundActivationInputs;
    private final Map<String, float[]> accumulatorStarts;
    private final List<Tensor> owned = new ArrayList<>();
    private final SequencedMap<String, Tensor> results = new LinkedHashMap<>();
    private final SequencedMap<String, float[]> scalars = new LinkedHashMap<>();
    private final Set<String> accumulators = new LinkedHashSet<>();
    private boolean storesBfloat16;

    private Side(Backend backend, DType activationType, boolean roundActivationInputs,
                 Map<String, float[]> accumulatorStarts) {
        this.backend = backend;
        this.activationType = activationType;
        this.roundActivationInputs = roundActivationInputs;
        this.accumulatorStarts = accumulatorStarts;
    }

    /** The candidate's side: activations in its own type, accumulators starting at the given values (else zero). */
    static Side candidate(Backend candidate, Map<String, float[]> accumulatorStarts) {
        return new Side(candidate, candidate.activationType(), false, accumulatorStarts);
    }

    /**
     * The reference's side: everything float32, activation inputs rounded to bfloat16 when the candidate stores
     * activations in bfloat16.
     */
    static Side reference(Backend reference, DType candidateActivations, Map<String, float[]> accumulatorStarts) {
        return new Side(reference, DType.F32, candidateActivations == DType.BF16, accumulatorStarts);
    }

    public TensorOps tensors() {
        return backend.tensors();
    }

    public LayerOps layers() {
        return backend.layers();
    }

    public OptimizerOps optimizer() {
        return backend.optimizer();
    }

    /** The type this side stores {@code storage} in. */
    public DType dtype(Storage storage) {
        return storage == Storage.ACTIVATION ? activationType : DType.F32;
    }

    /** A tensor holding {@code values} as this side stores {@code storage}. */
    public Tensor upload(Storage storage, float[] values, int... shape) {
        boolean round = storage == Storage.ACTIVATION && roundActivationInputs;
        return own(backend.tensors().upload(dtype(storage), round ? roundedToBfloat16(values) : values, shape));
    }

    public Tensor activation(float[] values, int... shape) {
        return upload(Storage.ACTIVATION, values, shape);
    }

    public Tensor float32(float[] values, int... shape) {
        return upload(Storage.FLOAT32, values, shape);
    }

    public Tensor ints(int[] values, int... shape) {
        return own(backend.tensors().uploadInts(values, shape));
    }

    /** A zero-filled tensor that is not a result (scratch, a forward's statistics needed by nothing else). */
    public Tensor zeros(Storage storage, int... shape) {
        return own(backend.tensors().zeros(dtype(storage), shape));
    }

    /**
     * A tensor from {@link TensorOps#empty}, checked to have the type and shape asked for (its contents are
     * undefined, so that is all it promises).
     */
    public Tensor empty(Storage storage, int... shape) {
        Tensor t = own(backend.tensors().empty(dtype(storage), shape));
        if (t.dtype() != dtype(storage) || !Arrays.equals(t.shape(), shape)) {
            throw new IllegalStateException("empty(" + dtype(storage) + ", " + Arrays.toString(shape) + ") gave "
                    + t.describe());
        }
        return t;
    }

    /**
     * A result the operation must overwrite completely: it starts as NaN, so an element the operation leaves
     * unwritten shows as a NaN error.
     */
    public Tensor output(String name, Storage storage, int... shape) {
        Tensor t = zeros(storage, shape);
        backend.tensors().fill(t, Float.NaN);
        return result(name, t);
    }

    /**
     * A gradient the operation adds into: it starts at the values the runner chose (random, of the size of the
     * operation's own contribution, so that a lost addition shows), or at zero in the run that measures that size.
     */
    public Tensor accumulator(String name, Storage storage, int... shape) {
        float[] start = accumulatorStarts.get(name);
        Tensor t = start == null ? zeros(storage, shape) : upload(storage, start, shape);
        accumulators.add(name);
        return result(name, t);
    }

    /** Marks an existing tensor (one updated in place, or an output aliasing an input) as a result. */
    public Tensor result(String name, Tensor t) {
        if (results.containsKey(name) || scalars.containsKey(name)) {
            throw new IllegalArgumentException("result " + name + " registered twice");
        }
        results.put(name, t);
        return t;
    }

    /** A scalar result computed on the host (a reduction's return value). */
    public void scalar(String name, double value) {
        if (results.containsKey(name) || scalars.containsKey(name)) {
            throw new IllegalArgumentException("result " + name + " registered twice");
        }
        scalars.put(name, new float[] {(float) value});
    }

    /** The contents of any tensor as float32 (I32 tensors converted). */
    public float[] download(Tensor t) {
        if (t.dtype() == DType.I32) {
            int[] ints = backend.tensors().downloadInts(t);
            float[] values = new float[ints.length];
            for (int i = 0; i < ints.length; i++) {
                values[i] = ints[i];
            }
            return values;
        }
        return backend.tensors().download(t);
    }

    /** Every result, downloaded, in the order registered. */
    SequencedMap<String, Observed> collect() {
        SequencedMap<String, Observed> observed = new LinkedHashMap<>();
        results.forEach((name, t) -> observed.put(name, new Observed(download(t), t.dtype())));
        scalars.forEach((name, v) -> observed.put(name, new Observed(v, DType.F32)));
        return observed;
    }

    /** The results that were accumulators, by name. */
    Set<String> accumulators() {
        return Collections.unmodifiableSet(accumulators);
    }

    /** Whether any tensor of this run was stored as bfloat16. */
    boolean storesBfloat16() {
        return storesBfloat16;
    }

    private Tensor own(Tensor t) {
        owned.add(t);
        storesBfloat16 |= t.dtype() == DType.BF16;
        return t;
    }

    static float[] roundedToBfloat16(float[] values) {
        float[] rounded = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            rounded[i] = Bfloat16.round(values[i]);
        }
        return rounded;
    }

    @Override
    public void close() {
        owned.forEach(Tensor::close);
    }
}
