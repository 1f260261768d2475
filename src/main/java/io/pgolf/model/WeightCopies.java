package io.pgolf.model;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Weights cast to the backend's activation type for GEMMs with activations (as torch's autocast casts them), alone,
 * transposed (the MLP's output projection for its fused backward product) or several stacked by rows into one matrix
 * (the q, k and v projections as one GEMM), each made once and reused
 * until {@link #close()}. Valid only while the weights do not change: a graph keeps its own
 * for its lifetime, and the training engine keeps one across the micro-batches of a step and drops it before the
 * optimizer updates the weights.
 */
public final class WeightCopies implements AutoCloseable {
    private final Backend backend;
    private final Map<Tensor, Tensor> copies = new IdentityHashMap<>();
    private final Map<Tensor, Tensor> transposed = new IdentityHashMap<>();
    /** Keyed by the weights in order; tensors are equal only to themselves. */
    private final Map<List<Tensor>, Tensor> stacks = new HashMap<>();

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

    /** The weight [out, in] transposed, [in, out], in the activation type (made on first request). */
    Tensor transposedInActivationType(Tensor t) {
        return transposed.computeIfAbsent(t, original -> {
            Tensor copy = backend.tensors().empty(backend.activationType(), original.dim(-1), original.rows());
            backend.tensors().transpose(original, copy);
            return copy;
        });
    }

    /**
     * The weights [rows_i, in] stacked by rows, in order, into one [sum of rows_i, in] matrix of the activation type
     * (made on first request).
     */
    Tensor stackedInActivationType(List<Tensor> weights) {
        return stacks.computeIfAbsent(List.copyOf(weights), list -> {
            int rows = list.stream().mapToInt(Tensor::rows).sum();
            Tensor stack = backend.tensors().empty(backend.activationType(), rows, list.getFirst().dim(-1));
            int row = 0;
            for (Tensor w : list) {
                backend.tensors().copyRows(w, stack, row);
                row += w.rows();
            }
            return stack;
        });
    }

    @Override
    public void close() {
        copies.values().forEach(Tensor::close);
        copies.clear();
        transposed.values().forEach(Tensor::close);
        transposed.clear();
        stacks.values().forEach(Tensor::close);
        stacks.clear();
    }
}
