package io.pgolf.model;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Weights cast to the backend's activation type for GEMMs with activations (as torch's autocast casts them), each
 * made once and reused until {@link #close()}. Valid only while the weights do not change: a graph keeps its own
 * for its lifetime, and the training engine keeps one across the micro-batches of a step and drops it before the
 * optimizer updates the weights.
 */
public final class WeightCopies implements AutoCloseable {
    private final Backend backend;
    private final Map<Tensor, Tensor> copies = new IdentityHashMap<>();

    public WeightCopies(Backend backend) {
        this.backend = backend;
    }

    /** t itself when it already has the activation type, else its cast copy (made on first request). */
    Tensor inActivationType(Tensor t) {
        DType type = backend.activationType();
        if (t.dtype() == type) {
            return t;
        }
        return copies.computeIfAbsent(t, original -> {
            Tensor copy = backend.tensors().empty(type, original.shape());
            backend.tensors().copy(original, copy);
            return copy;
        });
    }

    @Override
    public void close() {
        copies.values().forEach(Tensor::close);
        copies.clear();
    }
}
