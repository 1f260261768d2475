package io.pgolf.model.optim;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;
import io.pgolf.model.Parameter;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference's Muon for the matrices inside blocks. Per matrix, with momentum m:
 * <pre>
 *   buf = m * buf + g                          (buf starts at zero)
 *   u   = g + m * buf                          (nesterov)
 *   u   = u / max(||row||, 1e-7), per row      (MuonEq-R, when row normalization is on)
 *   u   = NewtonSchulz(u) * sqrt(max(1, rows / cols)), rounded to bfloat16
 *   p   = p * (1 - lr * wd) - lr * u
 * </pre>
 * Decay uses the scheduled lr, as the reference's {@code p.mul_(1 - lr * wd)} does.
 */
public final class Muon implements AutoCloseable {
    static final float ROW_NORM_EPS = 1e-7f;

    private final Backend backend;
    private final List<Parameter> params;
    private final List<Tensor> momentumBuffers = new ArrayList<>();
    private final Map<List<Integer>, Tensor> updates = new HashMap<>();
    private final NewtonSchulz newtonSchulz;
    private final double baseLr;
    private final double weightDecay;
    private final boolean rowNormalize;

    public Muon(Backend backend, List<Parameter> params, double baseLr, int backendSteps, double weightDecay,
                boolean rowNormalize) {
        this.backend = backend;
        this.params = List.copyOf(params);
        this.baseLr = baseLr;
        this.weightDecay = weightDecay;
        this.rowNormalize = rowNormalize;
        this.newtonSchulz = new NewtonSchulz(backend, backendSteps);
        TensorOps ops = backend.tensors();
        for (Parameter p : this.params) {
            if (p.value().rank() != 2) {
                throw new IllegalArgumentException("Muon takes matrices; " + p.name() + " is " + p.value().describe());
            }
            momentumBuffers.add(ops.zeros(DType.F32, p.shape()));
            updates.computeIfAbsent(List.of(p.shape()[0], p.shape()[1]), shape -> ops.zeros(DType.F32, p.shape()));
        }
    }

    public List<Parameter> params() {
        return params;
    }

    /** One update of every matrix from its gradient, with lr = baseLr * lrMultiplier. */
    public void step(double lrMultiplier, double momentum) {
        OptimizerOps ops = backend.optimizer();
        double lr = baseLr * lrMultiplier;
        float decay = (float) (1.0 - lr * weightDecay);
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            Tensor u = updates.get(List.of(p.shape()[0], p.shape()[1]));
            ops.nesterovMomentum(p.grad(), momentumBuffers.get(i), u, (float) momentum);
            if (rowNormalize) {
                ops.normalizeRows(u, ROW_NORM_EPS);
            }
            Tensor orthogonal = newtonSchulz.orthogonalize(u);
            float shapeScale = (float) Math.sqrt(Math.max(1.0, (double) p.shape()[0] / p.shape()[1]));
            ops.applyRoundedUpdate(p.value(), orthogonal, shapeScale, (float) lr, decay);
        }
    }

    /** Forgets the momentum, as a freshly built optimizer (the reference reloads its initial, empty state). */
    public void reset() {
        for (Tensor buf : momentumBuffers) {
            backend.tensors().fill(buf, 0f);
        }
    }

    @Override
    public void close() {
        momentumBuffers.forEach(Tensor::close);
        updates.values().forEach(Tensor::close);
        newtonSchulz.close();
    }
}
