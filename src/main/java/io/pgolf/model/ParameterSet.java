package io.pgolf.model;

import io.pgolf.data.SafeTensors;
import io.pgolf.data.SafeTensorsWriter;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/** A model's parameters in the reference's order (its state_dict order), by name. */
public final class ParameterSet implements Iterable<Parameter>, AutoCloseable {
    private final Backend backend;
    private final SequencedMap<String, Parameter> byName = new LinkedHashMap<>();

    public ParameterSet(Backend backend) {
        this.backend = backend;
    }

    public Backend backend() {
        return backend;
    }

    /** Adds a parameter holding {@code initial} (F32, row-major) with a zero gradient. */
    public Parameter add(String name, float[] initial, int... shape) {
        if (byName.containsKey(name)) {
            throw new IllegalArgumentException("duplicate parameter " + name);
        }
        Tensor value = backend.tensors().upload(DType.F32, initial, shape);
        Tensor grad = backend.tensors().zeros(DType.F32, shape);
        Parameter p = new Parameter(name, value, grad);
        byName.put(name, p);
        return p;
    }

    public Parameter get(String name) {
        Parameter p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter named " + name);
        }
        return p;
    }

    public List<Parameter> list() {
        return List.copyOf(byName.values());
    }

    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    public int size() {
        return byName.size();
    }

    /** Number of scalar weights. */
    public long elementCount() {
        long n = 0;
        for (Parameter p : byName.values()) {
            n += p.value().size();
        }
        return n;
    }

    public void zeroGradients() {
        for (Parameter p : byName.values()) {
            backend.tensors().fill(p.grad(), 0f);
        }
    }

    /** Every value as float32 on the host, by name, in order. */
    public SequencedMap<String, float[]> valuesOnHost() {
        SequencedMap<String, float[]> out = new LinkedHashMap<>();
        for (Parameter p : byName.values()) {
            out.put(p.name(), backend.tensors().download(p.value()));
        }
        return Collections.unmodifiableSequencedMap(out);
    }

    /** Every gradient as float32 on the host, by name, in order. */
    public SequencedMap<String, float[]> gradientsOnHost() {
        SequencedMap<String, float[]> out = new LinkedHashMap<>();
        for (Parameter p : byName.values()) {
            out.put(p.name(), backend.tensors().download(p.grad()));
        }
        return Collections.unmodifiableSequencedMap(out);
    }

    /**
     * Overwrites every parameter with the tensor {@code prefix + name} of a safetensors file; the file must hold
     * each with the same shape (extra tensors are ignored).
     */
    public void loadFrom(SafeTensors file, String prefix) {
        List<String> problems = new ArrayList<>();
        for (Parameter p : byName.values()) {
            String key = prefix + p.name();
            if (!file.contains(key)) {
                problems.add("missing " + key);
                continue;
            }
            long[] stored = file.info(key).shape();
            int[] expected = p.shape();
            if (!Arrays.equals(stored, Arrays.stream(expected).asLongStream().toArray())) {
                problems.add(key + " has shape " + Arrays.toString(stored) + ", expected " + Arrays.toString(expected));
                continue;
            }
            overwrite(p, file.floats(key));
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(file.file() + ": cannot load parameters: " + String.join("; ", problems));
        }
    }

    /**
     * Writes every value as float32 under {@code prefix + name}, in order, with the given metadata; the file
     * appears only once complete (see {@link SafeTensorsWriter}).
     */
    public void saveTo(Path file, String prefix, Map<String, String> metadata) {
        SafeTensorsWriter writer = new SafeTensorsWriter();
        for (Parameter p : byName.values()) {
            writer.addF32(prefix + p.name(), backend.tensors().download(p.value()), p.shape());
        }
        metadata.forEach(writer::metadata);
        writer.write(file);
    }

    /** Replaces a parameter's value with {@code values} (float32, row-major, its whole size) from the host. */
    public void overwrite(Parameter p, float[] values) {
        try (Tensor loaded = backend.tensors().upload(DType.F32, values, p.shape())) {
            backend.tensors().copy(loaded, p.value());
        }
    }

    /** Copies values from another set with the same names and shapes (EMA, resets). */
    public void copyValuesFrom(Map<String, Tensor> values) {
        for (Parameter p : byName.values()) {
            Tensor src = values.get(p.name());
            if (src == null) {
                throw new IllegalArgumentException("no value for parameter " + p.name());
            }
            backend.tensors().copy(src, p.value());
        }
    }

    @Override
    public Iterator<Parameter> iterator() {
        return Collections.unmodifiableCollection(byName.values()).iterator();
    }

    @Override
    public void close() {
        byName.values().forEach(Parameter::close);
    }
}
