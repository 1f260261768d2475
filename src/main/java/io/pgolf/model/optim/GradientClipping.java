package io.pgolf.model.optim;

import io.pgolf.gpu.TensorOps;
import io.pgolf.model.Parameter;
import io.pgolf.model.ParameterSet;

/** torch.nn.utils.clip_grad_norm_ over a whole model: one global L2 norm of all gradients. */
public final class GradientClipping {
    /** Added to the norm in the clip coefficient, as torch does, so a zero norm divides safely. */
    static final double NORM_EPS = 1e-6;

    private GradientClipping() {
    }

    /** The L2 norm of all gradients taken together. */
    public static double globalNorm(ParameterSet params) {
        TensorOps ops = params.backend().tensors();
        double sumOfSquares = 0;
        for (Parameter p : params) {
            sumOfSquares += ops.sumOfSquares(p.grad());
        }
        return Math.sqrt(sumOfSquares);
    }

    /**
     * Scales every gradient by min(1, maxNorm / (norm + 1e-6)) and returns the norm before clipping. As in torch,
     * a non-finite norm is not an error: it makes the gradients non-finite, which the loss then shows.
     */
    public static double clip(ParameterSet params, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("max gradient norm must be positive, got " + maxNorm);
        }
        double norm = globalNorm(params);
        double coefficient = maxNorm / (norm + NORM_EPS);
        if (!(coefficient >= 1.0)) {
            TensorOps ops = params.backend().tensors();
            for (Parameter p : params) {
                ops.scale(p.grad(), (float) coefficient);
            }
        }
        return norm;
    }
}
