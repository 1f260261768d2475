package io.pgolf.model.optim;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.model.Parameter;
import io.pgolf.model.ParameterSet;

import java.util.List;

/**
 * torch.nn.utils.clip_grad_norm_ over a whole model: one global L2 norm of all gradients. The norm stays on the
 * device, where the clipping reads it, so that a step need not wait for the device; {@link #norm} fetches it for
 * whoever reports it.
 */
public final class GradientClipping implements AutoCloseable {
    private final Backend backend;
    private final List<Tensor> gradients;
    private final Tensor norm;

    public GradientClipping(ParameterSet params) {
        this.backend = params.backend();
        this.gradients = params.list().stream().map(Parameter::grad).toList();
        this.norm = backend.tensors().zeros(DType.F32, 1);
    }

    /** Takes the global norm of the gradients, for {@link #norm}, without changing them. */
    public void measure() {
        backend.optimizer().globalNorm(gradients, norm);
    }

    /**
     * Takes the global norm and scales every gradient by min(1, maxNorm / (norm + 1e-6)). As in torch, a non-finite
     * norm is not an error: it makes the gradients non-finite, which the loss then shows.
     */
    public void clip(double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("max gradient norm must be positive, got " + maxNorm);
        }
        backend.optimizer().globalNorm(gradients, norm);
        backend.optimizer().clipToNorm(gradients, norm, (float) maxNorm);
    }

    /** The norm before clipping that the last {@link #measure} or {@link #clip} took; waits for the device. */
    public double norm() {
        return backend.tensors().download(norm)[0];
    }

    @Override
    public void close() {
        norm.close();
    }
}
