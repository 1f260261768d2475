package io.pgolf.model;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.RopeTable;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Reverse-mode differentiation over a {@link Backend}'s operations. Each method runs one model operation forward
 * and, when the graph records, remembers its backward step; {@link #backward()} runs the steps in reverse. Backward
 * steps add into their inputs' gradients (the rule of {@link LayerOps}), so a value read twice collects both
 * contributions. Activations are matrices of N = batch * seqLen rows.
 *
 * <p>The graph owns every tensor it allocates (values, saved statistics, intermediate gradients) and closes them
 * when it is closed; results needed afterwards must be downloaded first.
 */
public final class Graph implements AutoCloseable {
    /** A backward step and the values whose gradients it reads: it runs when any of them has one. */
    private record Step(List<Var> outputs, Runnable body) {
        boolean reached() {
            return outputs.stream().anyMatch(Var::hasGrad);
        }
    }

    /**
     * A value of the residual stream and its rms_norm (times the block's scale), made by one fused operation for
     * the branch that reads the norm.
     */
    public record NormedResidual(Var residual, Var normed) {
    }

    /** Attention's inputs as {@link #qkvNormRope} gives them. */
    public record QueryKeyValue(Var q, Var k, Var v) {
    }

    private final Backend backend;
    private final boolean recording;
    private final LinearInputObserver linearInputs;
    private final List<Step> steps = new ArrayList<>();
    private final Set<Tensor> owned = new LinkedHashSet<>();
    private final WeightCopies weightCopies;
    private final boolean ownsWeightCopies;
    private boolean backwardDone;

    private Graph(Backend backend, boolean recording, LinearInputObserver linearInputs, WeightCopies weightCopies) {
        this.backend = backend;
        this.recording = recording;
        this.linearInputs = linearInputs;
        this.ownsWeightCopies = weightCopies == null;
        this.weightCopies = weightCopies == null ? new WeightCopies(backend) : weightCopies;
    }

    /** A graph that records backward steps. */
    public static Graph training(Backend backend) {
        return new Graph(backend, true, null, null);
    }

    /**
     * A graph that records backward steps and takes its weights' activation-type copies from {@code weightCopies},
     * which outlive it (the micro-batches of one training step share them).
     */
    public static Graph training(Backend backend, WeightCopies weightCopies) {
        return new Graph(backend, true, null, Objects.requireNonNull(weightCopies, "weightCopies"));
    }

    /** A forward-only graph: nothing is recorded and no gradient is allocated. */
    public static Graph inference(Backend backend) {
        return new Graph(backend, false, null, null);
    }

    /** A forward-only graph that shows every {@link #linear} input of a parameter weight to {@code observer}. */
    public static Graph observing(Backend backend, LinearInputObserver observer) {
        return new Graph(backend, false, Objects.requireNonNull(observer, "observer"), null);
    }

    Backend backend() {
        return backend;
    }

    public boolean recording() {
        return recording;
    }

    Tensor own(Tensor t) {
        owned.add(t);
        return t;
    }

    void disown(Tensor t) {
        if (owned.remove(t)) {
            t.close();
        }
    }

    private TensorOps tensors() {
        return backend.tensors();
    }

    private LayerOps layers() {
        return backend.layers();
    }

    /** A forward output: every forward operation overwrites its output, so it starts undefined. */
    private Tensor activation(int... shape) {
        return own(tensors().empty(backend.activationType(), shape));
    }

    /** Float32 statistics that the operation producing them overwrites whole (inverse rms, log-sum-exp, losses). */
    private Tensor statistics(int... shape) {
        return own(tensors().empty(DType.F32, shape));
    }

    /** A float32 gradient that a backward step adds into: zero-filled. */
    private Tensor statisticsGradient(int... shape) {
        return own(tensors().zeros(DType.F32, shape));
    }

    /** Float32 like the parameters it is combined with (row selectors, the lane-merge mix). */
    private Tensor control(float[] values, int... shape) {
        return own(tensors().upload(DType.F32, values, shape));
    }

    private Var result(Tensor value) {
        return new Var(this, value);
    }

    private void record(Var output, Runnable backwardStep) {
        record(List.of(output), backwardStep);
    }

    /** A step of several outputs: it runs when a gradient has reached any of them. */
    private void record(List<Var> outputs, Runnable backwardStep) {
        if (recording) {
            steps.add(new Step(outputs, backwardStep));
        }
    }

    /** A parameter as a leaf: its gradient is the parameter's own gradient tensor. */
    public Var parameter(Parameter p) {
        return new Var(this, p);
    }

    /** out[n] = weight[ids[n]]: ids I32 [N], weight [V, d]. */
    public Var embedding(Tensor ids, Var weight) {
        Var out = result(activation(Math.toIntExact(ids.size()), weight.value().dim(-1)));
        layers().embedding(ids, weight.value(), out.value());
        record(out, () -> layers().embeddingBackward(ids, out.grad(), weight.grad()));
        return out;
    }

    /** x @ weight^T, as torch's F.linear without bias: x [N, in], weight [out, in]. */
    public Var linear(Var x, Var weight) {
        observeLinearInput(weight, x.value());
        Var out = result(activation(x.value().rows(), weight.value().rows()));
        Tensor w = weightCopies.inActivationType(weight.value());
        tensors().gemm(false, true, 1f, x.value(), w, 0f, out.value());
        record(out, () -> {
            addProduct(false, out.grad(), w, x);
            addProduct(true, out.grad(), x.value(), weight);
        });
        return out;
    }

    /** Shows the input of a parameter weight's linear layer to the observer, if any. */
    private void observeLinearInput(Var weight, Tensor input) {
        if (linearInputs != null && weight.parameter() != null) {
            linearInputs.linearInput(weight.parameter(), input);
        }
    }

    /**
     * x @ [w_1; ...; w_m]^T: the linear layers of several weights [rows_i, in] over one input as one GEMM against the
     * weights stacked by rows, their outputs side by side in one [N, sum of rows_i] value. The backward's input
     * gradient is one GEMM over the stacked rows, and the weight gradients one GEMM into a float32 scratch whose row
     * blocks are added into each weight's gradient. Each weight's input is observed as its own layer's.
     */
    public Var stackedLinear(Var x, List<Var> weights) {
        if (linearInputs != null) {
            weights.stream().filter(w -> w.parameter() != null)
                    .forEach(w -> linearInputs.linearInput(w.parameter(), x.value()));
        }
        Tensor w = weightCopies.stackedInActivationType(weights.stream().map(Var::value).toList());
        Var out = result(activation(x.value().rows(), w.rows()));
        tensors().gemm(false, true, 1f, x.value(), w, 0f, out.value());
        record(out, () -> {
            addProduct(false, out.grad(), w, x);
            Tensor dW = own(tensors().empty(DType.F32, w.shape()));
            tensors().gemm(true, false, 1f, out.grad(), x.value(), 0f, dW);
            int row = 0;
            for (Var weight : weights) {
                tensors().addRows(dW, row, weight.grad());
                row += weight.value().rows();
            }
            disown(dW);
        });
        return out;
    }

    /**
     * target's gradient += op(a) @ b (op: a^T when transposeA): a GEMM with beta 1, or, when this is the first
     * contribution to reach target, beta 0 into an uninitialized gradient, which saves its zero-fill.
     */
    private void addProduct(boolean transposeA, Tensor a, Tensor b, Var target) {
        boolean first = !target.hasGrad();
        Tensor grad = first ? target.uninitializedGrad() : target.grad();
        tensors().gemm(transposeA, false, 1f, a, b, first ? 0f : 1f, grad);
    }

    /** Row-wise rms_norm without weight (eps = the backend's {@link Backend#normEpsilon()}), times scale. */
    public Var rmsNorm(Var x, float scale) {
        Var out = result(activation(x.shape()));
        Tensor invRms = statistics(x.value().rows());
        layers().rmsNorm(x.value(), scale, backend.normEpsilon(), out.value(), invRms);
        record(out, () -> layers().rmsNormBackward(x.value(), invRms, scale, out.grad(), x.grad()));
        return out;
    }

    /** x + scale * y with scale [d]. */
    public Var scaledResidual(Var x, Var scale, Var y) {
        Var out = result(activation(x.shape()));
        layers().scaledResidual(x.value(), scale.value(), y.value(), out.value());
        record(out, () -> {
            // d out / d x is the identity: the first gradient to reach x (an intermediate) is out's gradient itself.
            Tensor dOut = out.grad();
            boolean passOn = x != y && x.takeGradOf(out);
            layers().scaledResidualBackward(scale.value(), y.value(), dOut, passOn ? null : x.grad(), y.grad(),
                    scale.grad());
        });
        return out;
    }

    /**
     * The residual mix mix[0] * x + mix[1] * x0 (mix [2, d]) and the {@link #rmsNorm} of its result as one operation:
     * the backward forms the mixed value's whole gradient (from the norm and from its other readers) without writing
     * it.
     */
    public NormedResidual residualMixRmsNorm(Var x, Var x0, Var mix, float scale) {
        Var mixed = result(activation(x.shape()));
        Var normed = result(activation(x.shape()));
        Tensor invRms = statistics(x.value().rows());
        layers().residualMixRmsNorm(x.value(), x0.value(), mix.value(), scale, backend.normEpsilon(), mixed.value(),
                normed.value(), invRms);
        record(List.of(mixed, normed), () -> layers().residualMixRmsNormBackward(x.value(), x0.value(), mix.value(),
                invRms, scale, mixed.hasGrad() ? mixed.grad() : null, normed.grad(), x.grad(), x0.grad(),
                mix.grad()));
        return new NormedResidual(mixed, normed);
    }

    /**
     * {@link #scaledResidual} and the {@link #rmsNorm} of its result as one operation; as there, the sum's gradient
     * (here with the norm's added) is passed on to x when x has none yet.
     */
    public NormedResidual scaledResidualRmsNorm(Var x, Var scale, Var y, float normScale) {
        Var out = result(activation(x.shape()));
        Var normed = result(activation(x.shape()));
        Tensor invRms = statistics(x.value().rows());
        layers().scaledResidualRmsNorm(x.value(), scale.value(), y.value(), normScale, backend.normEpsilon(),
                out.value(), normed.value(), invRms);
        record(List.of(out, normed), () -> {
            Tensor dOut = out.hasGrad() ? out.grad() : null;
            boolean passOn = dOut != null && x != y && x.takeGradOf(out);
            layers().scaledResidualRmsNormBackward(scale.value(), y.value(), out.value(), invRms, normScale, dOut,
                    normed.grad(), passOn ? null : x.grad(), y.grad(), scale.grad());
        });
        return new NormedResidual(out, normed);
    }

    /** lerp(weight * skip, x, sigmoid(gate)) with weight, gate [d]. */
    public Var skipGate(Var x, Var skip, Var weight, Var gate) {
        Var out = result(activation(x.shape()));
        layers().skipGate(x.value(), skip.value(), weight.value(), gate.value(), out.value());
        record(out, () -> layers().skipGateBackward(x.value(), skip.value(), weight.value(), gate.value(),
                out.grad(), x.grad(), skip.grad(), weight.grad(), gate.grad()));
        return out;
    }

    /**
     * Row {@code index} of matrix [K, d] as a [d] vector (the reference's {@code skip_weights[j]}). Backends have no
     * tensor views, so the row is selected by a GEMM with a one-hot row, and its gradient scattered back by the
     * transposed GEMM.
     */
    public Var row(Var matrix, int index) {
        int rows = matrix.value().rows();
        if (index < 0 || index >= rows) {
            throw new IndexOutOfBoundsException("row " + index + " of " + matrix.value().describe());
        }
        float[] oneHot = new float[rows];
        oneHot[index] = 1f;
        Tensor selector = control(oneHot, 1, rows);
        Var out = result(statistics(matrix.value().dim(-1)));
        tensors().gemm(false, false, 1f, selector, matrix.value(), 0f, out.value());
        record(out, () -> tensors().gemm(true, false, 1f, selector, out.grad(), 1f, matrix.grad()));
        return out;
    }

    /**
     * Attention's q, k and v from their one product qkv [N, (heads + 2 kvHeads) * headDim] (query heads, key heads,
     * value heads): per-head rms_norm and partial rotary embedding of q and k, q times its per-head gain.
     */
    public QueryKeyValue qkvNormRope(Var qkv, AttentionShape shape, RopeTable rope, Var gain) {
        int rows = qkv.value().rows();
        Var q = result(activation(rows, shape.heads() * shape.headDim()));
        Var k = result(activation(rows, shape.kvHeads() * shape.headDim()));
        Var v = result(activation(rows, shape.kvHeads() * shape.headDim()));
        Tensor invRms = statistics(rows * (shape.heads() + shape.kvHeads()));
        layers().qkvNormRope(qkv.value(), shape, rope, gain.value(), backend.normEpsilon(), q.value(), k.value(),
                v.value(), invRms);
        record(List.of(q, k, v), () -> layers().qkvNormRopeBackward(qkv.value(), shape, rope, gain.value(), invRms,
                q.grad(), k.grad(), v.grad(), qkv.grad(), gain.grad()));
        return new QueryKeyValue(q, k, v);
    }

    /**
     * Causal grouped-query softmax attention; with {@code exclusive}, XSA applied to its output in the same operation
     * (each head's output minus its component along its kv group's normalized value).
     */
    public Var attention(Var q, Var k, Var v, AttentionShape shape, boolean exclusive) {
        Var out = result(activation(q.shape()));
        Tensor logSumExp = statistics(shape.batch(), shape.heads(), shape.seqLen());
        Tensor xsaProjections = exclusive ? statistics(shape.rows() * shape.heads()) : null;
        layers().attention(q.value(), k.value(), v.value(), shape, out.value(), logSumExp, xsaProjections);
        record(out, () -> layers().attentionBackward(q.value(), k.value(), v.value(), shape, out.value(), logSumExp,
                xsaProjections, out.grad(), q.grad(), k.grad(), v.grad()));
        return out;
    }

    /**
     * The MLP branch {@code linear(leaky_relu(linear(x, fc), slope)^2, proj)} (fc [hidden, d], proj [d, hidden]) as
     * one operation, so that the activation rides in the first product's epilogues ({@link LayerOps#mlpHidden},
     * {@link LayerOps#mlpHiddenBackward}): the backward goes from out's gradient straight to the hidden
     * pre-activation's, never storing the activation's. Each weight's input is observed as {@link #linear} observes
     * it (x for fc, the activation for proj).
     */
    public Var leakyReluSquaredMlp(Var x, Var fc, Var proj, float slope) {
        observeLinearInput(fc, x.value());
        int rows = x.value().rows();
        int hidden = fc.value().rows();
        Tensor fcWeight = weightCopies.inActivationType(fc.value());
        Tensor h = activation(rows, hidden);
        Tensor a = activation(rows, hidden);
        layers().mlpHidden(x.value(), fcWeight, slope, h, a);
        observeLinearInput(proj, a);
        Tensor projWeight = weightCopies.inActivationType(proj.value());
        Var out = result(activation(rows, proj.value().rows()));
        tensors().gemm(false, true, 1f, a, projWeight, 0f, out.value());
        record(out, () -> {
            addProduct(true, out.grad(), a, proj);
            Tensor dH = own(tensors().empty(h.dtype(), h.shape()));
            layers().mlpHiddenBackward(out.grad(), weightCopies.transposedInActivationType(proj.value()), h, slope,
                    dH);
            addProduct(false, dH, fcWeight, x);
            addProduct(true, dH, x.value(), fc);
            disown(dH);
        });
        return out;
    }

    /**
     * w * a + (1 - w) * b for a scalar parameter w (the parallel lanes' merge). Composed from TensorOps and
     * {@link LayerOps#residualMix}: w is copied into a 1x1 matrix and broadcast into a [2, d] mix [w; 1 - w] by two
     * GEMMs; the backward reduces the mix gradient's rows back to dw = sum(dMix[0]) - sum(dMix[1]) the same way.
     */
    public Var laneMerge(Var a, Var b, Var weight) {
        if (weight.value().size() != 1) {
            throw new IllegalArgumentException("lane merge weight must be a scalar, got " + weight.value().describe());
        }
        int d = a.value().dim(-1);
        float[] ones = new float[d];
        Arrays.fill(ones, 1f);
        float[] base = new float[2 * d];
        Arrays.fill(base, d, 2 * d, 1f);
        Tensor onesRow = control(ones, 1, d);
        Tensor signs = control(new float[] {1f, -1f}, 2, 1);
        Tensor w = statistics(1, 1);
        tensors().copy(weight.value(), w);
        Tensor column = statistics(2, 1);
        tensors().gemm(false, false, 1f, signs, w, 0f, column);
        Tensor mix = control(base, 2, d);
        tensors().gemm(false, false, 1f, column, onesRow, 1f, mix);
        Var out = result(activation(a.shape()));
        layers().residualMix(a.value(), b.value(), mix, out.value());
        record(out, () -> {
            Tensor dMix = statisticsGradient(2, d);
            layers().residualMixBackward(a.value(), b.value(), mix, out.grad(), a.grad(), b.grad(), dMix);
            Tensor rowSums = statistics(2, 1);
            tensors().gemm(false, true, 1f, dMix, onesRow, 0f, rowSums);
            Tensor dw = statistics(1, 1);
            tensors().gemm(true, false, 1f, signs, rowSums, 0f, dw);
            tensors().axpby(1f, dw, 1f, weight.grad());
        });
        return out;
    }

    /**
     * Per-token cross-entropy of the softcapped logits (nats, F32 [N], owned by this graph). When the graph records,
     * the gradient of {@code gradScale * sum(loss)} seeds {@link #backward()} in the same pass: it replaces the
     * logits of an intermediate that no gradient has reached (the model's output, which nothing else reads; its
     * value is gone afterwards), and is added into the gradient of anything else.
     */
    public Tensor softcapCrossEntropy(Var logits, Tensor targets, float cap, float gradScale) {
        Tensor z = logits.value();
        Tensor loss = statistics(z.rows());
        Tensor dZ = null;
        if (recording) {
            dZ = logits.parameter() == null && !logits.hasGrad() ? logits.valueAsGrad() : logits.grad();
        }
        layers().softcapCrossEntropy(z, targets, cap, loss, dZ, gradScale);
        return loss;
    }

    /** Runs the recorded backward steps, last first, once; each intermediate gradient is freed after its use. */
    public void backward() {
        if (!recording) {
            throw new IllegalStateException("an inference graph has no backward pass");
        }
        if (backwardDone) {
            throw new IllegalStateException("backward already ran on this graph");
        }
        backwardDone = true;
        for (int i = steps.size() - 1; i >= 0; i--) {
            Step step = steps.get(i);
            if (step.reached()) {
                step.body().run();
            }
            step.outputs().forEach(Var::releaseGrad);
        }
    }

    @Override
    public void close() {
        for (Tensor t : owned) {
            t.close();
        }
        owned.clear();
        if (ownsWeightCopies) {
            weightCopies.close();
        }
        steps.clear();
    }
}
