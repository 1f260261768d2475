package io.pgolf.model;

import io.pgolf.gpu.Tensor;

/**
 * A value of a {@link Graph}: its tensor and, once a backward step adds into it, its float32 gradient (allocated
 * zero-filled on first use). A parameter's Var uses the parameter's own tensors, so its gradient accumulates across
 * graphs (micro-batches) and is never closed by a graph.
 */
public final class Var {
    private final Graph graph;
    private final Tensor value;
    private final Parameter parameter;
    private Tensor grad;
    private boolean replacedByGrad;

    /** An intermediate value, whose gradient the graph allocates on demand. */
    Var(Graph graph, Tensor value) {
        this(graph, value, null);
    }

    /** A parameter's leaf: its value and gradient are the parameter's own. */
    Var(Graph graph, Parameter parameter) {
        this(graph, parameter.value(), parameter);
    }

    private Var(Graph graph, Tensor value, Parameter parameter) {
        this.graph = graph;
        this.value = value;
        this.parameter = parameter;
        this.grad = parameter == null ? null : parameter.grad();
    }

    public Tensor value() {
        if (replacedByGrad) {
            throw new IllegalStateException("this value was replaced by its gradient");
        }
        return value;
    }

    public int[] shape() {
        return value.shape();
    }

    /** The parameter this leaf stands for, or null for an intermediate value. */
    Parameter parameter() {
        return parameter;
    }

    /**
     * The gradient to add into, allocated zero-filled when first asked for, in the value's type: float32 for
     * parameters, the activation type for activations (bfloat16 on a GPU, as torch's autocast backward).
     */
    Tensor grad() {
        if (grad == null) {
            grad = graph.own(graph.backend().tensors().zeros(value.dtype(), value.shape()));
        }
        return grad;
    }

    /**
     * The gradient for a first contribution that overwrites it whole (a GEMM with beta 0), allocated with undefined
     * contents: it saves the zero-fill of {@link #grad()}. Only while no gradient has reached this value.
     */
    Tensor uninitializedGrad() {
        if (grad != null) {
            throw new IllegalStateException("a gradient has already reached this value; add into grad()");
        }
        grad = graph.own(graph.backend().tensors().empty(value.dtype(), value.shape()));
        return grad;
    }

    /**
     * The value's own tensor as its gradient, for an operation that replaces a value nothing else reads by its
     * gradient (the loss over the logits): one buffer instead of two at the step's memory peak. The value is gone
     * afterwards. Only for an intermediate that no gradient has reached yet.
     */
    Tensor valueAsGrad() {
        if (parameter != null || grad != null) {
            throw new IllegalStateException("only an intermediate without a gradient can give its value up for one");
        }
        replacedByGrad = true;
        grad = value;
        return grad;
    }

    /**
     * Takes {@code other}'s gradient tensor over as this value's own gradient, when no gradient has reached this
     * intermediate yet (the gradient of an identity path, passed on instead of copied): {@code other} then lets go
     * of it, and this value frees it. Returns false, changing nothing, for a parameter or a value that already has
     * a gradient.
     */
    boolean takeGradOf(Var other) {
        if (parameter != null || grad != null || other.parameter != null || other.grad == null
                || other.grad.dtype() != value.dtype()) {
            return false;
        }
        grad = other.grad;
        other.grad = null;
        return true;
    }

    /** Whether any gradient has reached this value (no gradient means its backward step has nothing to do). */
    boolean hasGrad() {
        return grad != null;
    }

    /** Frees an intermediate's gradient once every step reading it has run. */
    void releaseGrad() {
        if (parameter == null && grad != null) {
            graph.disown(grad);
            grad = null;
        }
    }
}
