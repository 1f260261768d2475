package io.pgolf.model.optim;

import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;
import io.pgolf.model.Parameter;
import io.pgolf.model.ParameterSet;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference's EMA of all weights, in float32: it starts as a copy of the weights when taken (after the
 * warm-up reset, before the first real step), moves by ema = decay * ema + (1 - decay) * w after every step, has
 * no bias correction, and replaces the weights at the end of training.
 */
public final class ExponentialMovingAverage implements AutoCloseable {
    private final ParameterSet params;
    private final double decay;
    private final Map<String, Tensor> averages = new LinkedHashMap<>();
    /** The averages and the weights, aligned, for the one operation that updates them all. */
    private final List<Tensor> averageList = new ArrayList<>();
    private final List<Tensor> weightList = new ArrayList<>();

    public ExponentialMovingAverage(ParameterSet params, double decay) {
        if (!(decay >= 0 && decay < 1)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + decay);
        }
        this.params = params;
        this.decay = decay;
        TensorOps ops = params.backend().tensors();
        for (Parameter p : params) {
            Tensor average = ops.zeros(DType.F32, p.shape());
            ops.copy(p.value(), average);
            averages.put(p.name(), average);
            averageList.add(average);
            weightList.add(p.value());
        }
    }

    /** Folds the current weights in; call once after every optimizer step. */
    public void update() {
        params.backend().optimizer().movingAverage(averageList, weightList, decay);
    }

    /** Overwrites the weights with their averages. */
    public void applyToWeights() {
        params.copyValuesFrom(averages);
    }

    /** The average of one parameter, by name; owned by this object. */
    public Tensor average(String name) {
        Tensor t = averages.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no EMA for parameter " + name);
        }
        return t;
    }

    @Override
    public void close() {
        averages.values().forEach(Tensor::close);
    }
}
