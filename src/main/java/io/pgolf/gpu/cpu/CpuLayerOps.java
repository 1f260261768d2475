package io.pgolf.gpu.cpu;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.FusedBackwardChecks;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.RopeTable;
import io.pgolf.gpu.Tensor;

import java.util.Arrays;

import static io.pgolf.gpu.cpu.ShapeChecks.requireIndices;
import static io.pgolf.gpu.cpu.ShapeChecks.requireMatrix;
import static io.pgolf.gpu.cpu.ShapeChecks.requireSize;

/**
 * {@link LayerOps} in plain Java: float32 storage and arithmetic, float64 for the sums whose rounding would
 * otherwise show (squares under a norm, softmax denominators, sums over rows). Work is split over rows; sums over
 * rows go through {@link RowSums}, so every result is independent of the thread count. The per-head operations
 * are {@link CpuHeadOps}, attention is {@link CpuAttention}.
 */
final class CpuLayerOps implements LayerOps {
    /** Values per task of an elementwise operation: enough to outweigh the cost of forking it. */
    private static final int ELEMENTS_PER_TASK = 1 << 14;

    private final CpuThreads threads;
    private final CpuTensorOps tensors;
    private final CpuHeadOps headOps;
    private final CpuAttention attention;

    CpuLayerOps(CpuThreads threads, CpuTensorOps tensors) {
        this.threads = threads;
        this.tensors = tensors;
        this.headOps = new CpuHeadOps(threads);
        this.attention = new CpuAttention(threads);
    }

    /** Rows per task for row-wise work on rows of the given width. */
    static int rowGrain(int width) {
        return Math.max(1, ELEMENTS_PER_TASK / Math.max(1, width));
    }

    private static float[] floats(Tensor t) {
        return CpuTensor.of(t).floats();
    }

    @Override
    public void embedding(Tensor ids, Tensor weight, Tensor out) {
        int[] idx = CpuTensor.of(ids).ints();
        int vocab = weight.rows();
        int d = weight.dim(-1);
        requireMatrix(out, idx.length, d, "embedding output");
        requireIndices(idx, vocab, "token id");
        float[] w = floats(weight);
        float[] o = floats(out);
        threads.forRange(idx.length, rowGrain(d), (from, to) -> {
            for (int n = from; n < to; n++) {
                System.arraycopy(w, idx[n] * d, o, n * d, d);
            }
        });
    }

    @Override
    public void embeddingBackward(Tensor ids, Tensor dOut, Tensor dWeight) {
        int[] idx = CpuTensor.of(ids).ints();
        int vocab = dWeight.rows();
        int d = dWeight.dim(-1);
        requireMatrix(dOut, idx.length, d, "embedding output gradient");
        requireIndices(idx, vocab, "token id");
        float[] g = floats(dOut);
        float[] dw = floats(dWeight);
        // Split over vocabulary rows, not over tokens: a repeated token then adds into its row from one task, in
        // token order, without races.
        threads.forRange(vocab, 64, (from, to) -> {
            for (int n = 0; n < idx.length; n++) {
                int id = idx[n];
                if (id >= from && id < to) {
                    int src = n * d;
                    int dst = id * d;
                    for (int j = 0; j < d; j++) {
                        dw[dst + j] += g[src + j];
                    }
                }
            }
        });
    }

    @Override
    public void rmsNorm(Tensor x, float scale, float eps, Tensor out, Tensor invRms) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireMatrix(out, rows, d, "rms_norm output");
        requireSize(invRms, rows, "rms_norm inverse rms");
        float[] xs = floats(x);
        float[] o = floats(out);
        float[] inv = floats(invRms);
        threads.forRange(rows, rowGrain(d), (from, to) -> {
            for (int r = from; r < to; r++) {
                int base = r * d;
                double squares = 0;
                for (int j = 0; j < d; j++) {
                    squares += (double) xs[base + j] * xs[base + j];
                }
                float rowInv = (float) (1.0 / Math.sqrt(squares / d + eps));
                inv[r] = rowInv;
                for (int j = 0; j < d; j++) {
                    o[base + j] = xs[base + j] * rowInv * scale;
                }
            }
        });
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor invRms, float scale, Tensor dOut, Tensor dX) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireSize(invRms, rows, "rms_norm inverse rms");
        requireMatrix(dOut, rows, d, "rms_norm output gradient");
        requireMatrix(dX, rows, d, "rms_norm input gradient");
        float[] xs = floats(x);
        float[] inv = floats(invRms);
        float[] g = floats(dOut);
        float[] dx = floats(dX);
        // out = s x r with r = (mean(x^2) + eps)^-1/2, so dx = s r (g - x r^2 mean(g x)).
        threads.forRange(rows, rowGrain(d), (from, to) -> {
            for (int r = from; r < to; r++) {
                int base = r * d;
                double gx = 0;
                for (int j = 0; j < d; j++) {
                    gx += (double) g[base + j] * xs[base + j];
                }
                float rowInv = inv[r];
                float projection = (float) (gx * rowInv * rowInv / d);
                float factor = scale * rowInv;
                for (int j = 0; j < d; j++) {
                    dx[base + j] += factor * (g[base + j] - xs[base + j] * projection);
                }
            }
        });
    }

    @Override
    public void residualMix(Tensor x, Tensor x0, Tensor mix, Tensor out) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireMatrix(x0, rows, d, "residual mix x0");
        requireMatrix(mix, 2, d, "residual mix weights");
        requireMatrix(out, rows, d, "residual mix output");
        float[] xs = floats(x);
        float[] x0s = floats(x0);
        float[] m = floats(mix);
        float[] o = floats(out);
        threads.forRange(rows, rowGrain(d), (from, to) -> {
            for (int r = from; r < to; r++) {
                int base = r * d;
                for (int j = 0; j < d; j++) {
                    o[base + j] = m[j] * xs[base + j] + m[d + j] * x0s[base + j];
                }
            }
        });
    }

    @Override
    public void residualMixBackward(Tensor x, Tensor x0, Tensor mix, Tensor dOut, Tensor dX, Tensor dX0, Tensor dMix) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireMatrix(x0, rows, d, "residual mix x0");
        requireMatrix(mix, 2, d, "residual mix weights");
        requireMatrix(dOut, rows, d, "residual mix output gradient");
        requireMatrix(dX, rows, d, "residual mix x gradient");
        requireMatrix(dX0, rows, d, "residual mix x0 gradient");
        requireMatrix(dMix, 2, d, "residual mix weights gradient");
        float[] xs = floats(x);
        float[] x0s = floats(x0);
        float[] m = floats(mix);
        float[] g = floats(dOut);
        float[] dx = floats(dX);
        float[] dx0 = floats(dX0);
        // Each element's two updates are separate read-modify-writes, so dX and dX0 may be the same tensor.
        double[] sums = RowSums.over(threads, rows, 2 * d, (from, to, partial) -> {
            for (int r = from; r < to; r++) {
                int base = r * d;
                for (int j = 0; j < d; j++) {
                    float gj = g[base + j];
                    dx[base + j] += m[j] * gj;
                    dx0[base + j] += m[d + j] * gj;
                    partial[j] += (double) xs[base + j] * gj;
                    partial[d + j] += (double) x0s[base + j] * gj;
                }
            }
        });
        RowSums.addInto(sums, floats(dMix));
    }

    @Override
    public void scaledResidual(Tensor x, Tensor scale, Tensor y, Tensor out) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireSize(scale, d, "residual scale");
        requireMatrix(y, rows, d, "scaled residual branch");
        requireMatrix(out, rows, d, "scaled residual output");
        float[] xs = floats(x);
        float[] s = floats(scale);
        float[] ys = floats(y);
        float[] o = floats(out);
        threads.forRange(rows, rowGrain(d), (from, to) -> {
            for (int r = from; r < to; r++) {
                int base = r * d;
                for (int j = 0; j < d; j++) {
                    o[base + j] = xs[base + j] + s[j] * ys[base + j];
                }
            }
        });
    }

    @Override
    public void scaledResidualBackward(Tensor scale, Tensor y, Tensor dOut, Tensor dX, Tensor dY, Tensor dScale) {
        int rows = y.rows();
        int d = y.dim(-1);
        requireSize(scale, d, "residual scale");
        requireMatrix(dOut, rows, d, "scaled residual output gradient");
        if (dX != null) {
            requireMatrix(dX, rows, d, "scaled residual x gradient");
        }
        requireMatrix(dY, rows, d, "scaled residual branch gradient");
        requireSize(dScale, d, "residual scale gradient");
        float[] s = floats(scale);
        float[] ys = floats(y);
        float[] g = floats(dOut);
        float[] dx = dX == null ? null : floats(dX);
        float[] dy = floats(dY);
        double[] sums = RowSums.over(threads, rows, d, (from, to, partial) -> {
            for (int r = from; r < to; r++) {
                int base = r * d;
                for (int j = 0; j < d; j++) {
                    float gj = g[base + j];
                    if (dx != null) {
                        dx[base + j] += gj;
                    }
                    dy[base + j] += s[j] * gj;
                    partial[j] += (double) ys[base + j] * gj;
                }
            }
        });
        RowSums.addInto(sums, floats(dScale));
    }

    /** The two unfused operations, one after the other: the same arithmetic, so the same numbers. */
    @Override
    public void residualMixRmsNorm(Tensor x, Tensor x0, Tensor mix, float scale, float eps, Tensor mixed,
                                   Tensor normed, Tensor invRms) {
        residualMix(x, x0, mix, mixed);
        rmsNorm(mixed, scale, eps, normed, invRms);
    }

    /**
     * The unfused backwards on a scratch copy of mixed's gradient, with mixed recomputed as the forward made it (the
     * CPU stores float32 only, so there is nothing to round).
     */
    @Override
    public void residualMixRmsNormBackward(Tensor x, Tensor x0, Tensor mix, Tensor invRms, float scale, Tensor dMixed,
                                           Tensor dNormed, Tensor dX, Tensor dX0, Tensor dMix) {
        int rows = x.rows();
        int d = x.dim(-1);
        try (CpuTensor mixed = CpuTensor.zeros(DType.F32, rows, d);
             CpuTensor total = copyOrZeros(dMixed, rows, d, "mixed gradient")) {
            residualMix(x, x0, mix, mixed);
            rmsNormBackward(mixed, invRms, scale, dNormed, total);
            residualMixBackward(x, x0, mix, total, dX, dX0, dMix);
        }
    }

    @Override
    public void scaledResidualRmsNorm(Tensor x, Tensor residualScale, Tensor y, float normScale, float eps,
                                      Tensor out, Tensor normed, Tensor invRms) {
        scaledResidual(x, residualScale, y, out);
        rmsNorm(out, normScale, eps, normed, invRms);
    }

    /** The unfused backwards, the norm's adding into dOut itself when it is replaced, else into a scratch copy. */
    @Override
    public void scaledResidualRmsNormBackward(Tensor residualScale, Tensor y, Tensor out, Tensor invRms,
                                              float normScale, Tensor dOut, Tensor dNormed, Tensor dX, Tensor dY,
                                              Tensor dResidualScale) {
        int rows = out.rows();
        int d = out.dim(-1);
        FusedBackwardChecks.requireTotalGradientTarget(dX, dOut);
        if (dX == null) {
            rmsNormBackward(out, invRms, normScale, dNormed, dOut);
            scaledResidualBackward(residualScale, y, dOut, null, dY, dResidualScale);
            return;
        }
        try (CpuTensor total = copyOrZeros(dOut, rows, d, "scaled residual output gradient")) {
            rmsNormBackward(out, invRms, normScale, dNormed, total);
            scaledResidualBackward(residualScale, y, total, dX, dY, dResidualScale);
        }
    }

    /** A float32 [rows, d] scratch holding a copy of the gradient g, or zeros when g is null (no gradient). */
    private static CpuTensor copyOrZeros(Tensor g, int rows, int d, String what) {
        CpuTensor copy = CpuTensor.zeros(DType.F32, rows, d);
        if (g != null) {
            requireMatrix(g, rows, d, what);
            System.arraycopy(floats(g), 0, copy.floats(), 0, rows * d);
        }
        return copy;
    }

    private static float[] sigmoid(float[] gate) {
        float[] a = new float[gate.length];
        for (int j = 0; j < gate.length; j++) {
            a[j] = (float) (1.0 / (1.0 + Math.exp(-gate[j])));
        }
        return a;
    }

    @Override
    public void skipGate(Tensor x, Tensor skip, Tensor weight, Tensor gate, Tensor out) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireMatrix(skip, rows, d, "skip");
        requireSize(weight, d, "skip weight");
        requireSize(gate, d, "skip gate");
        requireMatrix(out, rows, d, "skip gate output");
        float[] xs = floats(x);
        float[] sk = floats(skip);
        float[] w = floats(weight);
        float[] a = sigmoid(floats(gate));
        float[] o = floats(out);
        threads.forRange(rows, rowGrain(d), (from, to) -> {
            for (int r = from; r < to; r++) {
                int base = r * d;
                for (int j = 0; j < d; j++) {
                    float s = w[j] * sk[base + j];
                    o[base + j] = s + a[j] * (xs[base + j] - s);
                }
            }
        });
    }

    @Override
    public void skipGateBackward(Tensor x, Tensor skip, Tensor weight, Tensor gate, Tensor dOut,
                                 Tensor dX, Tensor dSkip, Tensor dWeight, Tensor dGate) {
        int rows = x.rows();
        int d = x.dim(-1);
        requireMatrix(skip, rows, d, "skip");
        requireSize(weight, d, "skip weight");
        requireSize(gate, d, "skip gate");
        requireMatrix(dOut, rows, d, "skip gate output gradient");
        requireMatrix(dX, rows, d, "skip gate x gradient");
        requireMatrix(dSkip, rows, d, "skip gradient");
        requireSize(dWeight, d, "skip weight gradient");
        requireSize(dGate, d, "skip gate gradient");
        float[] xs = floats(x);
        float[] sk = floats(skip);
        float[] w = floats(weight);
        float[] a = sigmoid(floats(gate));
        float[] g = floats(dOut);
        float[] dx = floats(dX);
        float[] dsk = floats(dSkip);
        // out = (1 - a) w skip + a x with a = sigmoid(gate): the row sums of skip g and (x - w skip) g are taken
        // first, and their column factors (1 - a) and a (1 - a) applied once.
        double[] sums = RowSums.over(threads, rows, 2 * d, (from, to, partial) -> {
            for (int r = from; r < to; r++) {
                int base = r * d;
                for (int j = 0; j < d; j++) {
                    float gj = g[base + j];
                    float skj = sk[base + j];
                    dx[base + j] += a[j] * gj;
                    dsk[base + j] += (1f - a[j]) * w[j] * gj;
                    partial[j] += (double) skj * gj;
                    partial[d + j] += (double) (xs[base + j] - w[j] * skj) * gj;
                }
            }
        });
        float[] dw = floats(dWeight);
        float[] dg = floats(dGate);
        for (int j = 0; j < d; j++) {
            dw[j] += (float) ((1.0 - a[j]) * sums[j]);
            dg[j] += (float) ((double) a[j] * (1.0 - a[j]) * sums[d + j]);
        }
    }

    @Override
    public void qkvNormRope(Tensor qkv, AttentionShape shape, RopeTable rope, Tensor gain, float eps, Tensor q,
                            Tensor k, Tensor v, Tensor invRms) {
        headOps.qkvNormRope(qkv, shape, rope, gain, eps, q, k, v, invRms);
    }

    @Override
    public void qkvNormRopeBackward(Tensor qkv, AttentionShape shape, RopeTable rope, Tensor gain, Tensor invRms,
                                    Tensor dQ, Tensor dK, Tensor dV, Tensor dQkv, Tensor dGain) {
        headOps.qkvNormRopeBackward(qkv, shape, rope, gain, invRms, dQ, dK, dV, dQkv, dGain);
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp,
                          Tensor xsaProjections) {
        if (xsaProjections == null) {
            attention.forward(q, k, v, shape, out, logSumExp);
            return;
        }
        try (CpuTensor y = attentionOutput(shape)) {
            attention.forward(q, k, v, shape, y, logSumExp);
            headOps.exclusiveSelfAttention(y, v, shape, out, xsaProjections);
        }
    }

    /**
     * With XSA, the attention output y is computed again rather than rebuilt as out + c vHat: the forward is
     * deterministic, so the backward sees the very y of the forward (rebuilding it would round differently), and the
     * gradients are exactly those of attention and XSA as two operations. XSA's backward adds into dV before
     * attention's does, the order of the two operations' backward steps.
     */
    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp,
                                  Tensor xsaProjections, Tensor dOut, Tensor dQ, Tensor dK, Tensor dV) {
        if (xsaProjections == null) {
            attention.backward(q, k, v, shape, out, logSumExp, dOut, dQ, dK, dV);
            return;
        }
        requireMatrix(out, shape.rows(), shape.heads() * shape.headDim(), "XSA output");
        requireSize(xsaProjections, (long) shape.rows() * shape.heads(), "XSA projections");
        try (CpuTensor y = attentionOutput(shape);
             CpuTensor recomputedLogSumExp = CpuTensor.zeros(DType.F32, logSumExp.shape());
             CpuTensor dY = attentionOutput(shape)) {
            attention.forward(q, k, v, shape, y, recomputedLogSumExp);
            headOps.exclusiveSelfAttentionBackward(y, v, shape, dOut, dY, dV);
            attention.backward(q, k, v, shape, y, logSumExp, dY, dQ, dK, dV);
        }
    }

    /** A zero-filled float32 [rows, heads * headDim]: the attention output under XSA, or its gradient. */
    private static CpuTensor attentionOutput(AttentionShape shape) {
        return CpuTensor.zeros(DType.F32, shape.rows(), shape.heads() * shape.headDim());
    }

    @Override
    public void leakyReluSquared(Tensor x, float slope, Tensor out) {
        requireSize(out, x.size(), "leaky_relu^2 output");
        float[] xs = floats(x);
        float[] o = floats(out);
        threads.forRange(xs.length, ELEMENTS_PER_TASK, (from, to) -> {
            for (int i = from; i < to; i++) {
                float l = xs[i] > 0f ? xs[i] : slope * xs[i];
                o[i] = l * l;
            }
        });
    }

    @Override
    public void leakyReluSquaredBackward(Tensor x, float slope, Tensor dOut, Tensor dX) {
        requireSize(dOut, x.size(), "leaky_relu^2 output gradient");
        requireSize(dX, x.size(), "leaky_relu^2 input gradient");
        float[] xs = floats(x);
        float[] g = floats(dOut);
        float[] dx = floats(dX);
        // d/dx leaky(x)^2 = 2 leaky(x) leaky'(x), with leaky'(0) = slope as in PyTorch.
        float slopeSquared2 = 2f * slope * slope;
        threads.forRange(xs.length, ELEMENTS_PER_TASK, (from, to) -> {
            for (int i = from; i < to; i++) {
                dx[i] += (xs[i] > 0f ? 2f : slopeSquared2) * xs[i] * g[i];
            }
        });
    }

    @Override
    public void mlpHidden(Tensor x, Tensor w, float slope, Tensor h, Tensor a) {
        tensors.gemm(false, true, 1f, x, w, 0f, h);
        leakyReluSquared(h, slope, a);
    }

    @Override
    public void mlpHiddenBackward(Tensor dOut, Tensor vT, Tensor h, float slope, Tensor dH) {
        requireSize(dH, h.size(), "MLP hidden gradient");
        try (CpuTensor dA = CpuTensor.zeros(DType.F32, h.shape())) {
            tensors.gemm(false, true, 1f, dOut, vT, 0f, dA);
            Arrays.fill(floats(dH), 0f);
            leakyReluSquaredBackward(h, slope, dA, dH);
        }
    }

    /** tanh(z / cap) as the reference computes it in float32: divide, then tanh, each rounded to float. */
    private static float capTanh(float z, float cap) {
        return (float) Math.tanh(z / cap);
    }

    @Override
    public void softcap(Tensor z, float cap, Tensor out) {
        requireSize(out, z.size(), "softcap output");
        float[] zs = floats(z);
        float[] o = floats(out);
        threads.forRange(zs.length, ELEMENTS_PER_TASK, (from, to) -> {
            for (int i = from; i < to; i++) {
                o[i] = cap * capTanh(zs[i], cap);
            }
        });
    }

    @Override
    public void softcapCrossEntropy(Tensor z, Tensor targets, float cap, Tensor loss, Tensor dZ, float gradScale) {
        int rows = z.rows();
        int vocab = z.dim(-1);
        int[] target = CpuTensor.of(targets).ints();
        requireSize(targets, rows, "cross-entropy targets");
        requireSize(loss, rows, "cross-entropy loss");
        requireIndices(target, vocab, "target");
        if (dZ != null) {
            requireMatrix(dZ, rows, vocab, "logit gradient");
        }
        float[] zs = floats(z);
        float[] l = floats(loss);
        float[] dz = dZ == null ? null : floats(dZ);
        boolean inPlace = dz == zs;
        threads.forRange(rows, rowGrain(vocab), (from, to) -> {
            float[] tanh = new float[vocab];
            float[] exps = new float[vocab];
            for (int r = from; r < to; r++) {
                int base = r * vocab;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < vocab; j++) {
                    tanh[j] = capTanh(zs[base + j], cap);
                    max = Math.max(max, cap * tanh[j]);
                }
                double sum = 0;
                for (int j = 0; j < vocab; j++) {
                    float e = (float) Math.exp(cap * tanh[j] - max);
                    exps[j] = e;
                    sum += e;
                }
                int t = target[r];
                l[r] = (float) (max + Math.log(sum) - cap * tanh[t]);
                if (dz != null) {
                    // dloss/dz = (softmax(c) - onehot) dc/dz with dc/dz = 1 - tanh^2; in place, the row's logits were
                    // all read above.
                    float probabilityScale = (float) (gradScale / sum);
                    for (int j = 0; j < vocab; j++) {
                        float g = exps[j] * probabilityScale * (1f - tanh[j] * tanh[j]);
                        dz[base + j] = inPlace ? g : dz[base + j] + g;
                    }
                    dz[base + t] -= gradScale * (1f - tanh[t] * tanh[t]);
                }
            }
        });
    }
}
