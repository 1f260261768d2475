package io.pgolf.gpu;

import java.util.List;

/**
 * Fused optimizer updates; everything else the optimizers need is {@link TensorOps}. Optimizer state is F32. The
 * operations over lists of tensors do the whole list at once (one launch on a GPU), and none of them waits for the
 * device: a norm stays on the device, where the operations that use it read it.
 */
public interface OptimizerOps {
    /** Added to the norm in {@link #clipToNorm}'s coefficient, as torch.nn.utils.clip_grad_norm_ adds it. */
    float CLIP_NORM_EPS = 1e-6f;

    /**
     * norm (an F32 tensor of one value) = the L2 norm of all values of all the tensors taken together, their squares
     * summed in float64.
     */
    void globalNorm(List<Tensor> tensors, Tensor norm);

    /**
     * Every value of every tensor times torch.nn.utils.clip_grad_norm_'s coefficient, computed in float32 as torch
     * does: min(1, (1 / (norm + {@link #CLIP_NORM_EPS})) * maxNorm), with norm the one value of an F32 tensor (from
     * {@link #globalNorm}). A NaN norm makes every value NaN, as in torch.
     */
    void clipToNorm(List<Tensor> tensors, Tensor norm, float maxNorm);

    /**
     * One AdamW step of every parameter exactly as torch.optim.AdamW (decoupled decay, bias correction, eps outside
     * the root), the four lists aligned (parameter i, its gradient, its first and second moments):
     * p *= 1 - lr * wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
     * p -= lr / (1 - b1^step) * m / (sqrt(v) / sqrt(1 - b2^step) + eps). step counts from 1.
     */
    void adamw(List<Tensor> params, List<Tensor> grads, List<Tensor> expAvg, List<Tensor> expAvgSq, float lr,
               float beta1, float beta2, float eps, float weightDecay, int step);

    /**
     * average = (1 - decay) * value + decay * average for each aligned pair, with both factors rounded to float32
     * from double (an exponential moving average of weights).
     */
    void movingAverage(List<Tensor> averages, List<Tensor> values, double decay);

    /**
     * Muon's nesterov momentum for a stack of matrices of one shape, with MuonEq-R: for gradient i of {@code grads}
     * (each of rows x cols values, F32 or BF16) and matrix i of the stacks {@code buf} (F32) and {@code update} (any
     * float type), both [grads.size(), rows, cols]:
     * <pre>
     *   buf[i] = g + momentum * buf[i]
     *   u      = g + momentum * buf[i]                  (the new buf)
     *   u      = u / max(||row||, rowEps), per row       (only when normalizeRows)
     * </pre>
     * with update[i] = u stored in update's type. u is float32 until then: a BF16 update holds u rounded once.
     */
    void nesterovMomentum(List<Tensor> grads, Tensor buf, Tensor update, float momentum, boolean normalizeRows,
                          float rowEps);

    /**
     * dst = X / (||X||_F + eps) for every matrix X of src, in torch's eager bfloat16 arithmetic, where X = bf16(src):
     * the norm, the divisor norm + eps, and each quotient (X times the divisor's float32 reciprocal) are rounded to
     * bfloat16. A src of rank 3 is a stack [G, rows, cols] of G matrices, each divided by its own norm; a src of any
     * other rank is one matrix. dst has src's size, any float types; it may be src. dst values are bfloat16 whatever
     * dst's type. Newton-Schulz's start; the norms stay on the device.
     */
    void normalizeBfloat16(Tensor src, Tensor dst, float eps);

    /**
     * out = bf16(bf16(alpha * x) + y), or bf16(alpha * x) when y is null: a scaled sum of bfloat16 tensors, each
     * term rounded as torch's eager bf16 arithmetic rounds it (y is taken as it is). Same size; out may alias x or y.
     */
    void roundedScaleAdd(float alpha, Tensor x, Tensor y, Tensor out);

    /**
     * Muon's update of F32 parameters of one size from a stack: param_i = -lr * bf16(scale * update[i]) + decay *
     * param_i, where update[i] is matrix i of {@code update} [params.size(), ...] (any float type).
     */
    void applyRoundedUpdate(List<Tensor> params, Tensor update, float scale, float lr, float decay);

    /**
     * SGD with momentum as torch.optim.SGD (no dampening): buf = momentum * buf + g (buf = g on the first step,
     * signalled by firstStep); p -= lr * (nesterov ? g + momentum * buf : buf).
     */
    void sgdMomentum(Tensor param, Tensor grad, Tensor buf, float lr, float momentum, boolean nesterov,
                     boolean firstStep);
}
