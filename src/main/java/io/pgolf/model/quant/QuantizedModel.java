package io.pgolf.model.quant;

import io.pgolf.model.Parameter;
import io.pgolf.model.ParameterSet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;
import java.util.Set;

/** Every tensor of a model after quantization, in the model's parameter order. */
public record QuantizedModel(List<QuantizedTensor> tensors) {
    public QuantizedModel {
        tensors = List.copyOf(tensors);
        Set<String> names = new HashSet<>();
        for (QuantizedTensor t : tensors) {
            if (!names.add(t.name())) {
                throw new IllegalArgumentException("quantized model holds " + t.name() + " twice");
            }
        }
    }

    /** The dequantized values by name, in order, ready for {@code ParameterSet} (via a backend upload). */
    public SequencedMap<String, float[]> dequantize() {
        SequencedMap<String, float[]> out = new LinkedHashMap<>();
        for (QuantizedTensor t : tensors) {
            out.put(t.name(), t.dequantize());
        }
        return out;
    }

    /**
     * Overwrites every parameter with its dequantized value (the reference's dequantize_mixed), uploading through
     * the parameters' backend. The names and shapes must be exactly the model's.
     */
    public void loadInto(ParameterSet parameters) {
        SequencedMap<String, QuantizedTensor> byName = new LinkedHashMap<>();
        tensors.forEach(t -> byName.put(t.name(), t));
        List<String> problems = new ArrayList<>();
        for (Parameter p : parameters) {
            QuantizedTensor t = byName.remove(p.name());
            if (t == null) {
                problems.add("missing " + p.name());
            } else if (!Arrays.equals(t.shape(), p.shape())) {
                problems.add(p.name() + " has shape " + Arrays.toString(t.shape()) + ", the model "
                        + Arrays.toString(p.shape()));
            }
        }
        if (!byName.isEmpty()) {
            problems.add("not in the model: " + byName.keySet());
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("quantized model does not fit the parameters: "
                    + String.join("; ", problems));
        }
        for (QuantizedTensor t : tensors) {
            parameters.overwrite(parameters.get(t.name()), t.dequantize());
        }
    }
}
