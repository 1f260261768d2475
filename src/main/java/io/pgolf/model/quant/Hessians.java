package io.pgolf.model.quant;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

/** The Hessians of a model's GPTQ-quantized weights by parameter name, from {@code batches} calibration batches. */
public record Hessians(SequencedMap<String, Hessian> byName, int batches) {
    public Hessians {
        byName = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(byName));
        for (Map.Entry<String, Hessian> e : byName.entrySet()) {
            if (!e.getKey().equals(e.getValue().name())) {
                throw new IllegalArgumentException("Hessian " + e.getValue().name() + " is filed under " + e.getKey());
            }
        }
    }

    /** The Hessian of {@code weightName}; an error names the weights that have one. */
    public Hessian get(String weightName) {
        Hessian h = byName.get(weightName);
        if (h == null) {
            throw new IllegalArgumentException("no Hessian for " + weightName + "; collected: " + byName.keySet());
        }
        return h;
    }
}
