package io.pgolf.model.optim;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.model.Parameter;

import java.util.ArrayList;
import java.util.List;

/**
 * torch.optim.AdamW over a group of parameters sharing one learning rate and weight decay (the update itself is
 * {@link io.pgolf.gpu.OptimizerOps#adamw}). With weight decay 0 it is torch.optim.Adam, which the reference uses
 * for an untied output head.
 */
public final class AdamW implements AutoCloseable {
    private final Backend backend;
    private final List<Parameter> params;
    private final List<Tensor> values;
    private final List<Tensor> grads;
    private final List<Tensor> expAvg = new ArrayList<>();
    private final List<Tensor> expAvgSq = new ArrayList<>();
    private final double baseLr;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private int steps;

    public AdamW(Backend backend, List<Parameter> params, double baseLr, double beta1, double beta2, double eps,
                 double weightDecay) {
        this.backend = backend;
        this.params = List.copyOf(params);
        this.values = this.params.stream().map(Parameter::value).toList();
        this.grads = this.params.stream().map(Parameter::grad).toList();
        this.baseLr = baseLr;
        this.beta1 = (float) beta1;
        this.beta2 = (float) beta2;
        this.eps = (float) eps;
        this.weightDecay = (float) weightDecay;
        for (Parameter p : this.params) {
            expAvg.add(backend.tensors().zeros(DType.F32, p.shape()));
            expAvgSq.add(backend.tensors().zeros(DType.F32, p.shape()));
        }
    }

    public List<Parameter> params() {
        return params;
    }

    /** Steps taken since construction or the last reset; bias correction uses it. */
    public int steps() {
        return steps;
    }

    /** One update of every parameter from its gradient, with lr = baseLr * lrMultiplier, all in one operation. */
    public void step(double lrMultiplier) {
        steps++;
        float lr = (float) (baseLr * lrMultiplier);
        backend.optimizer().adamw(values, grads, expAvg, expAvgSq, lr, beta1, beta2, eps, weightDecay, steps);
    }

    /** Forgets both moments and the step count, as a freshly built optimizer. */
    public void reset() {
        steps = 0;
        for (int i = 0; i < params.size(); i++) {
            backend.tensors().fill(expAvg.get(i), 0f);
            backend.tensors().fill(expAvgSq.get(i), 0f);
        }
    }

    @Override
    public void close() {
        expAvg.forEach(Tensor::close);
        expAvgSq.forEach(Tensor::close);
    }
}
