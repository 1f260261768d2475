package io.pgolf.model.quant;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;

/** Every tensor of a model after quantization, in the model's parameter order. */
public record QuantizedModel(List<QuantizedTensor> tensors) {
    public QuantizedModel {
        tensors = List.copyOf(tensors);
    }

    /** The dequantized values by name, in order, ready for {@code ParameterSet} (via a backend upload). */
    public SequencedMap<String, float[]> dequantize() {
        SequencedMap<String, float[]> out = new LinkedHashMap<>();
        for (QuantizedTensor t : tensors) {
            out.put(t.name(), t.dequantize());
        }
        return out;
    }
}
