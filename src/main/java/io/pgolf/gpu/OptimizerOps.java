package io.pgolf.gpu;

/** Fused optimizer updates; everything else the optimizers need is {@link TensorOps}. Optimizer state is F32. */
public interface OptimizerOps {
    /**
     * One AdamW step exactly as torch.optim.AdamW (decoupled decay, bias correction, eps outside the root):
     * p *= 1 - lr * wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
     * p -= lr / (1 - b1^step) * m / (sqrt(v) / sqrt(1 - b2^step) + eps). step counts from 1.
     */
    void adamw(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, float lr, float beta1, float beta2,
               float eps, float weightDecay, int step);

    /** Each row of x [rows, cols] divided by max(its L2 norm, eps) (MuonEq-R). */
    void normalizeRows(Tensor x, float eps);

    /**
     * SGD with momentum as torch.optim.SGD (no dampening): buf = momentum * buf + g (buf = g on the first step,
     * signalled by firstStep); p -= lr * (nesterov ? g + momentum * buf : buf).
     */
    void sgdMomentum(Tensor param, Tensor grad, Tensor buf, float lr, float momentum, boolean nesterov,
                     boolean firstStep);
}
