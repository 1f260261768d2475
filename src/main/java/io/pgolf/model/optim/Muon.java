package io.pgolf.model.optim;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;
import io.pgolf.model.Parameter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 *
 * <p>Matrices of one shape are updated together, as a stack [count, rows, cols], every operation one call for the
 * stack (on a GPU one launch where the matrices one by one took one each); each matrix's result is what it would be
 * alone. A shape's matrices make stacks of at most {@link #STACK_VALUES} values (as evenly sized as they can be),
 * so that the work tensors of a step stay small beside the activations: a stack's update and Newton-Schulz's work
 * tensors are taken from the backend for the stack and given back after it.
 */
public final class Muon implements AutoCloseable {
    static final float ROW_NORM_EPS = 1e-7f;
    /**
     * Values of a stack's matrices together, at most (unless one matrix alone has more): 8 MiB per bf16 work stack.
     * The record's 66 matrices make 9 stacks, whose work tensors keep 64 MiB in a GPU's caching allocator; twice the
     * values would save 3 stacks' launches for 40 MiB more.
     */
    static final long STACK_VALUES = 1L << 22;

    /** Matrices of one shape updated together: their parameters in order, their momentum [count, rows, cols]. */
    private record Stack(List<Parameter> params, Tensor momentum) {
        int rows() {
            return momentum.dim(1);
        }

        int cols() {
            return momentum.dim(2);
        }
    }

    private final Backend backend;
    private final List<Parameter> params;
    private final List<Stack> stacks = new ArrayList<>();
    private final NewtonSchulz newtonSchulz;
    private final double baseLr;
    private final double weightDecay;
    private final boolean rowNormalize;

    public Muon(Backend backend, List<Parameter> params, double baseLr, int backendSteps, double weightDecay,
                boolean rowNormalize) {
        this(backend, params, baseLr, backendSteps, weightDecay, rowNormalize, STACK_VALUES);
    }

    /** With stacks of at most {@code stackValues} values (tests split small shapes this way). */
    Muon(Backend backend, List<Parameter> params, double baseLr, int backendSteps, double weightDecay,
         boolean rowNormalize, long stackValues) {
        this.backend = backend;
        this.params = List.copyOf(params);
        this.baseLr = baseLr;
        this.weightDecay = weightDecay;
        this.rowNormalize = rowNormalize;
        this.newtonSchulz = new NewtonSchulz(backend, backendSteps);
        Map<List<Integer>, List<Parameter>> byShape = new LinkedHashMap<>();
        for (Parameter p : this.params) {
            if (p.value().rank() != 2) {
                throw new IllegalArgumentException("Muon takes matrices; " + p.name() + " is " + p.value().describe());
            }
            byShape.computeIfAbsent(List.of(p.shape()[0], p.shape()[1]), shape -> new ArrayList<>()).add(p);
        }
        TensorOps ops = backend.tensors();
        byShape.forEach((shape, group) -> {
            for (List<Parameter> members : split(group, (long) shape.get(0) * shape.get(1), stackValues)) {
                stacks.add(new Stack(members, ops.zeros(DType.F32, members.size(), shape.get(0), shape.get(1))));
            }
        });
    }

    /** The group in consecutive stacks of at most stackValues values (at least one matrix), of near-equal counts. */
    private static List<List<Parameter>> split(List<Parameter> group, long matrixValues, long stackValues) {
        int pieces = (int) Math.min(group.size(), Math.max(1, Math.ceilDiv(group.size() * matrixValues, stackValues)));
        int perStack = Math.ceilDiv(group.size(), pieces);
        List<List<Parameter>> stacks = new ArrayList<>();
        for (int from = 0; from < group.size(); from += perStack) {
            stacks.add(group.subList(from, Math.min(group.size(), from + perStack)));
        }
        return stacks;
    }

    public List<Parameter> params() {
        return params;
    }

    /** One update of every matrix from its gradient, with lr = baseLr * lrMultiplier. */
    public void step(double lrMultiplier, double momentum) {
        TensorOps ops = backend.tensors();
        OptimizerOps fused = backend.optimizer();
        double lr = baseLr * lrMultiplier;
        float decay = (float) (1.0 - lr * weightDecay);
        for (Stack stack : stacks) {
            List<Tensor> grads = stack.params().stream().map(Parameter::grad).toList();
            List<Tensor> values = stack.params().stream().map(Parameter::value).toList();
            float shapeScale = (float) Math.sqrt(Math.max(1.0, (double) stack.rows() / stack.cols()));
            try (Tensor update = ops.empty(backend.activationType(), stack.params().size(), stack.rows(),
                    stack.cols())) {
                fused.nesterovMomentum(grads, stack.momentum(), update, (float) momentum, rowNormalize, ROW_NORM_EPS);
                newtonSchulz.orthogonalize(update);
                fused.applyRoundedUpdate(values, update, shapeScale, (float) lr, decay);
            }
        }
    }

    /** Forgets the momentum, as a freshly built optimizer (the reference reloads its initial, empty state). */
    public void reset() {
        for (Stack stack : stacks) {
            backend.tensors().fill(stack.momentum(), 0f);
        }
    }

    @Override
    public void close() {
        stacks.forEach(stack -> stack.momentum().close());
    }
}
