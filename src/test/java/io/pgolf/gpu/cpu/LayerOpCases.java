package io.pgolf.gpu.cpu;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.RopeTable;
import io.pgolf.gpu.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Every {@link LayerOps} operation as a {@link LayerOpCase} on random inputs, with float64 references. */
final class LayerOpCases {
    /** The sizes of one set of cases: rows = batch * seqLen; width is the row length of the row-wise operations. */
    record Dims(int batch, int seqLen, int width, int heads, int kvHeads, int headDim, int ropeDims, int vocab) {
        int rows() {
            return batch * seqLen;
        }

        AttentionShape attentionShape() {
            return new AttentionShape(batch, seqLen, heads, kvHeads, headDim, (float) (1 / Math.sqrt(headDim)));
        }
    }

    private static final float NORM_SCALE = 0.7f;
    /** Far above the model's epsilon, so that a misplaced epsilon shows. */
    private static final float NORM_EPS = 0.25f;
    private static final float LEAKY_SLOPE = 0.5f;
    /** Small next to the logits, so that tanh bends them. */
    private static final float SOFTCAP = 5f;
    private static final float LOSS_GRAD_SCALE = 0.37f;

    private final Backend backend;
    private final LayerOps ops;
    private final Dims dims;
    private final Random random;

    private LayerOpCases(Backend backend, Dims dims, Random random) {
        this.backend = backend;
        this.ops = backend.layers();
        this.dims = dims;
        this.random = random;
    }

    /** All cases, on inputs drawn from {@code seed}: the same seed gives the same inputs on any backend. */
    static List<LayerOpCase> all(Backend backend, Dims dims, long seed) {
        LayerOpCases cases = new LayerOpCases(backend, dims, new Random(seed));
        return List.of(cases.embedding(), cases.rmsNorm(), cases.residualMix(), cases.scaledResidual(),
                cases.skipGate(), cases.qkvNormRope(), cases.attention(false),
                cases.attention(true), cases.leakyReluSquared(), cases.softcap(), cases.softcapCrossEntropy(),
                cases.residualMixRmsNorm(), cases.scaledResidualRmsNorm());
    }

    private LayerOpCase embedding() {
        int n = dims.rows();
        int d = dims.width();
        int vocab = dims.vocab();
        // Ids from the lower half of the vocabulary, so that tokens repeat and their gradients must add up.
        int[] ids = random.ints(n, 0, Math.max(1, vocab / 2)).toArray();
        return new LayerOpCase("embedding", List.of(input("weight", gaussian(vocab * d))),
                in -> {
                    Tensor out = zeros(n, d);
                    ops.embedding(ints(ids), tensor(in[0], vocab, d), out);
                    return read(out);
                },
                (in, w, grads) -> {
                    Tensor dWeight = tensor(grads[0], vocab, d);
                    ops.embeddingBackward(ints(ids), tensor(w, n, d), dWeight);
                    readInto(dWeight, grads[0]);
                },
                in -> {
                    double[] out = new double[n * d];
                    for (int r = 0; r < n; r++) {
                        for (int j = 0; j < d; j++) {
                            out[r * d + j] = in[0][ids[r] * d + j];
                        }
                    }
                    return out;
                },
                gaussian(n * d));
    }

    private LayerOpCase rmsNorm() {
        int n = dims.rows();
        int d = dims.width();
        return new LayerOpCase("rmsNorm", List.of(input("x", gaussian(n * d))),
                in -> {
                    Tensor out = zeros(n, d);
                    ops.rmsNorm(tensor(in[0], n, d), NORM_SCALE, NORM_EPS, out, zeros(n));
                    return read(out);
                },
                (in, w, grads) -> {
                    Tensor x = tensor(in[0], n, d);
                    Tensor invRms = zeros(n);
                    ops.rmsNorm(x, NORM_SCALE, NORM_EPS, zeros(n, d), invRms);
                    Tensor dX = tensor(grads[0], n, d);
                    ops.rmsNormBackward(x, invRms, NORM_SCALE, tensor(w, n, d), dX);
                    readInto(dX, grads[0]);
                },
                in -> {
                    double[] out = new double[n * d];
                    for (int r = 0; r < n; r++) {
                        double inv = referenceInvRms(in[0], r * d, d, NORM_EPS);
                        for (int j = 0; j < d; j++) {
                            out[r * d + j] = in[0][r * d + j] * inv * NORM_SCALE;
                        }
                    }
                    return out;
                },
                gaussian(n * d));
    }

    /** 1 / sqrt(mean(x^2) + eps) over values[from, from + length), in float64. */
    static double referenceInvRms(float[] values, int from, int length, double eps) {
        double squares = 0;
        for (int j = 0; j < length; j++) {
            squares += (double) values[from + j] * values[from + j];
        }
        return 1 / Math.sqrt(squares / length + eps);
    }

    private LayerOpCase residualMix() {
        int n = dims.rows();
        int d = dims.width();
        return new LayerOpCase("residualMix",
                List.of(input("x", gaussian(n * d)), input("x0", gaussian(n * d)), input("mix", gaussian(2 * d))),
                in -> {
                    Tensor out = zeros(n, d);
                    ops.residualMix(tensor(in[0], n, d), tensor(in[1], n, d), tensor(in[2], 2, d), out);
                    return read(out);
                },
                (in, w, grads) -> {
                    Tensor dX = tensor(grads[0], n, d);
                    Tensor dX0 = tensor(grads[1], n, d);
                    Tensor dMix = tensor(grads[2], 2, d);
                    ops.residualMixBackward(tensor(in[0], n, d), tensor(in[1], n, d), tensor(in[2], 2, d),
                            tensor(w, n, d), dX, dX0, dMix);
                    readInto(dX, grads[0]);
                    readInto(dX0, grads[1]);
                    readInto(dMix, grads[2]);
                },
                in -> {
                    double[] out = new double[n * d];
                    for (int r = 0; r < n; r++) {
                        for (int j = 0; j < d; j++) {
                            out[r * d + j] = (double) in[2][j] * in[0][r * d + j]
                                    + (double) in[2][d + j] * in[1][r * d + j];
                        }
                    }
                    return out;
                },
                gaussian(n * d));
    }

    private LayerOpCase scaledResidual() {
        int n = dims.rows();
        int d = dims.width();
        return new LayerOpCase("scaledResidual",
                List.of(input("x", gaussian(n * d)), input("scale", gaussian(d)), input("y", gaussian(n * d))),
                in -> {
                    Tensor out = zeros(n, d);
                    ops.scaledResidual(tensor(in[0], n, d), tensor(in[1], d), tensor(in[2], n, d), out);
                    return read(out);
                },
                (in, w, grads) -> {
                    Tensor dX = tensor(grads[0], n, d);
                    Tensor dScale = tensor(grads[1], d);
                    Tensor dY = tensor(grads[2], n, d);
                    ops.scaledResidualBackward(tensor(in[1], d), tensor(in[2], n, d), tensor(w, n, d), dX, dY, dScale);
                    readInto(dX, grads[0]);
                    readInto(dScale, grads[1]);
                    readInto(dY, grads[2]);
                },
                in -> {
                    double[] out = new double[n * d];
                    for (int r = 0; r < n; r++) {
                        for (int j = 0; j < d; j++) {
                            out[r * d + j] = in[0][r * d + j] + (double) in[1][j] * in[2][r * d + j];
                        }
                    }
                    return out;
                },
                gaussian(n * d));
    }

    private LayerOpCase skipGate() {
        int n = dims.rows();
        int d = dims.width();
        return new LayerOpCase("skipGate",
                List.of(input("x", gaussian(n * d)), input("skip", gaussian(n * d)), input("weight", gaussian(d)),
                        input("gate", gaussian(d))),
                in -> {
                    Tensor out = zeros(n, d);
                    ops.skipGate(tensor(in[0], n, d), tensor(in[1], n, d), tensor(in[2], d), tensor(in[3], d), out);
                    return read(out);
                },
                (in, w, grads) -> {
                    Tensor dX = tensor(grads[0], n, d);
                    Tensor dSkip = tensor(grads[1], n, d);
                    Tensor dWeight = tensor(grads[2], d);
                    Tensor dGate = tensor(grads[3], d);
                    ops.skipGateBackward(tensor(in[0], n, d), tensor(in[1], n, d), tensor(in[2], d), tensor(in[3], d),
                            tensor(w, n, d), dX, dSkip, dWeight, dGate);
                    readInto(dX, grads[0]);
                    readInto(dSkip, grads[1]);
                    readInto(dWeight, grads[2]);
                    readInto(dGate, grads[3]);
                },
                in -> {
                    double[] out = new double[n * d];
                    for (int r = 0; r < n; r++) {
                        for (int j = 0; j < d; j++) {
                            double s = (double) in[2][j] * in[1][r * d + j];
                            double a = 1 / (1 + Math.exp(-in[3][j]));
                            out[r * d + j] = s + a * (in[0][r * d + j] - s);
                        }
                    }
                    return out;
                },
                gaussian(n * d));
    }

    /** A rotary table of random angles: the operation must take whatever angle each position and pair has. */
    private RopeTable randomRope() {
        int pairs = dims.ropeDims() / 2;
        float[] cos = new float[dims.seqLen() * pairs];
        float[] sin = new float[cos.length];
        for (int i = 0; i < cos.length; i++) {
            double angle = random.nextDouble(-Math.PI, Math.PI);
            cos[i] = (float) Math.cos(angle);
            sin[i] = (float) Math.sin(angle);
        }
        return new RopeTable(dims.ropeDims(), dims.seqLen(), tensor(cos, dims.seqLen(), pairs),
                tensor(sin, dims.seqLen(), pairs));
    }

    /** q, k and v of one product as one output: q's values, then k's, then v's. */
    private LayerOpCase qkvNormRope() {
        AttentionShape shape = dims.attentionShape();
        int n = shape.rows();
        int heads = shape.heads();
        int qWidth = heads * shape.headDim();
        int kvWidth = shape.kvHeads() * shape.headDim();
        int width = qWidth + 2 * kvWidth;
        int normed = n * (heads + shape.kvHeads());
        RopeTable rope = randomRope();
        return new LayerOpCase("qkvNormRope", List.of(input("qkv", gaussian(n * width)), input("gain", gaussian(heads))),
                in -> {
                    Tensor q = zeros(n, qWidth);
                    Tensor k = zeros(n, kvWidth);
                    Tensor v = zeros(n, kvWidth);
                    ops.qkvNormRope(tensor(in[0], n, width), shape, rope, tensor(in[1], heads), NORM_EPS, q, k, v,
                            zeros(normed));
                    return concat(read(q), read(k), read(v));
                },
                (in, w, grads) -> {
                    Tensor qkv = tensor(in[0], n, width);
                    Tensor gain = tensor(in[1], heads);
                    Tensor invRms = zeros(normed);
                    ops.qkvNormRope(qkv, shape, rope, gain, NORM_EPS, zeros(n, qWidth), zeros(n, kvWidth),
                            zeros(n, kvWidth), invRms);
                    Tensor dQkv = tensor(grads[0], n, width);
                    Tensor dGain = tensor(grads[1], heads);
                    ops.qkvNormRopeBackward(qkv, shape, rope, gain, invRms,
                            tensor(Arrays.copyOfRange(w, 0, n * qWidth), n, qWidth),
                            tensor(Arrays.copyOfRange(w, n * qWidth, n * (qWidth + kvWidth)), n, kvWidth),
                            tensor(Arrays.copyOfRange(w, n * (qWidth + kvWidth), w.length), n, kvWidth), dQkv, dGain);
                    readInto(dQkv, grads[0]);
                    readInto(dGain, grads[1]);
                },
                in -> referenceQkvNormRope(in[0], in[1], read(rope.cos()), read(rope.sin())),
                gaussian(n * width));
    }

    private static float[] concat(float[]... parts) {
        float[] all = new float[Arrays.stream(parts).mapToInt(p -> p.length).sum()];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    /**
     * q, then k, then v of rows [q heads | k heads | v heads]: per q or k head rms_norm, then the first ropeDims dims
     * rotated as the reference's apply_rotary_emb does (cat(x1 cos + x2 sin, x2 cos - x1 sin) of the halves x1, x2),
     * then q times its head's gain; v as it is.
     */
    private double[] referenceQkvNormRope(float[] x, float[] gain, float[] cos, float[] sin) {
        int n = dims.rows();
        int heads = dims.heads();
        int kvHeads = dims.kvHeads();
        int headDim = dims.headDim();
        int half = dims.ropeDims() / 2;
        int rowHeads = heads + 2 * kvHeads;
        double[] out = new double[x.length];
        for (int r = 0; r < n; r++) {
            int position = r % dims.seqLen();
            for (int h = 0; h < rowHeads; h++) {
                int base = (r * rowHeads + h) * headDim;
                int outBase;
                if (h < heads) {
                    outBase = (r * heads + h) * headDim;
                } else if (h < heads + kvHeads) {
                    outBase = n * heads * headDim + (r * kvHeads + h - heads) * headDim;
                } else {
                    outBase = n * (heads + kvHeads) * headDim + (r * kvHeads + h - heads - kvHeads) * headDim;
                    for (int i = 0; i < headDim; i++) {
                        out[outBase + i] = x[base + i];
                    }
                    continue;
                }
                double inv = referenceInvRms(x, base, headDim, NORM_EPS);
                double g = h < heads ? gain[h] : 1;
                for (int i = 0; i < headDim; i++) {
                    out[outBase + i] = x[base + i] * inv * g;
                }
                for (int i = 0; i < half; i++) {
                    double c = cos[position * half + i];
                    double s = sin[position * half + i];
                    double a = x[base + i] * inv;
                    double b = x[base + i + half] * inv;
                    out[outBase + i] = (a * c + b * s) * g;
                    out[outBase + i + half] = (b * c - a * s) * g;
                }
            }
        }
        return out;
    }

    /** Plain attention, or with XSA fused in. */
    private LayerOpCase attention(boolean xsa) {
        AttentionShape shape = dims.attentionShape();
        int n = shape.rows();
        int qWidth = shape.heads() * shape.headDim();
        int kvWidth = shape.kvHeads() * shape.headDim();
        int statistics = shape.batch() * shape.heads() * shape.seqLen();
        return new LayerOpCase(xsa ? "attention with XSA" : "attention",
                List.of(input("q", gaussian(n * qWidth)), input("k", gaussian(n * kvWidth)),
                        input("v", gaussian(n * kvWidth))),
                in -> {
                    Tensor out = zeros(n, qWidth);
                    ops.attention(tensor(in[0], n, qWidth), tensor(in[1], n, kvWidth), tensor(in[2], n, kvWidth),
                            shape, out, zeros(statistics), xsa ? zeros(n * shape.heads()) : null);
                    return read(out);
                },
                (in, w, grads) -> {
                    Tensor q = tensor(in[0], n, qWidth);
                    Tensor k = tensor(in[1], n, kvWidth);
                    Tensor v = tensor(in[2], n, kvWidth);
                    Tensor out = zeros(n, qWidth);
                    Tensor logSumExp = zeros(statistics);
                    Tensor xsaProjections = xsa ? zeros(n * shape.heads()) : null;
                    ops.attention(q, k, v, shape, out, logSumExp, xsaProjections);
                    Tensor dQ = tensor(grads[0], n, qWidth);
                    Tensor dK = tensor(grads[1], n, kvWidth);
                    Tensor dV = tensor(grads[2], n, kvWidth);
                    ops.attentionBackward(q, k, v, shape, out, logSumExp, xsaProjections, tensor(w, n, qWidth), dQ,
                            dK, dV);
                    readInto(dQ, grads[0]);
                    readInto(dK, grads[1]);
                    readInto(dV, grads[2]);
                },
                in -> {
                    double[] y = referenceAttention(in[0], in[1], in[2], shape).output();
                    return xsa ? referenceExclusiveSelfAttention(y, in[2], shape) : y;
                },
                gaussian(n * qWidth));
    }

    /** Attention's output and the log-sum-exp of its scaled scores per [batch, head, position]. */
    record AttentionResult(double[] output, double[] logSumExp) {
    }

    /** Attention with a full softmax per query over the keys at or before it, in float64. */
    static AttentionResult referenceAttention(float[] q, float[] k, float[] v, AttentionShape shape) {
        int headDim = shape.headDim();
        int qWidth = shape.heads() * headDim;
        int kvWidth = shape.kvHeads() * headDim;
        double[] out = new double[shape.rows() * qWidth];
        double[] logSumExp = new double[shape.batch() * shape.heads() * shape.seqLen()];
        for (int b = 0; b < shape.batch(); b++) {
            for (int h = 0; h < shape.heads(); h++) {
                int kvOffset = h / shape.groupSize() * headDim;
                for (int t = 0; t < shape.seqLen(); t++) {
                    int qOff = (b * shape.seqLen() + t) * qWidth + h * headDim;
                    double[] scores = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= t; j++) {
                        int kOff = (b * shape.seqLen() + j) * kvWidth + kvOffset;
                        for (int d = 0; d < headDim; d++) {
                            scores[j] += (double) q[qOff + d] * k[kOff + d];
                        }
                        scores[j] *= shape.softmaxScale();
                        max = Math.max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= t; j++) {
                        sum += Math.exp(scores[j] - max);
                    }
                    for (int j = 0; j <= t; j++) {
                        double p = Math.exp(scores[j] - max) / sum;
                        int vOff = (b * shape.seqLen() + j) * kvWidth + kvOffset;
                        for (int d = 0; d < headDim; d++) {
                            out[qOff + d] += p * v[vOff + d];
                        }
                    }
                    logSumExp[(b * shape.heads() + h) * shape.seqLen() + t] = max + Math.log(sum);
                }
            }
        }
        return new AttentionResult(out, logSumExp);
    }

    /** y - (y . vHat) vHat per query head, vHat = v / max(||v||, 1e-12) of the head's kv group, in float64. */
    static double[] referenceExclusiveSelfAttention(double[] y, float[] v, AttentionShape shape) {
        int headDim = shape.headDim();
        double[] out = new double[y.length];
        for (int r = 0; r < shape.rows(); r++) {
            for (int h = 0; h < shape.heads(); h++) {
                int yOff = (r * shape.heads() + h) * headDim;
                int vOff = (r * shape.kvHeads() + h / shape.groupSize()) * headDim;
                double norm = 0;
                for (int i = 0; i < headDim; i++) {
                    norm += (double) v[vOff + i] * v[vOff + i];
                }
                norm = Math.max(Math.sqrt(norm), 1e-12);
                double projection = 0;
                for (int i = 0; i < headDim; i++) {
                    projection += y[yOff + i] * (v[vOff + i] / norm);
                }
                for (int i = 0; i < headDim; i++) {
                    out[yOff + i] = y[yOff + i] - projection * (v[vOff + i] / norm);
                }
            }
        }
        return out;
    }

    private LayerOpCase leakyReluSquared() {
        int size = dims.rows() * dims.width();
        return new LayerOpCase("leakyReluSquared", List.of(input("x", gaussian(size))),
                in -> {
                    Tensor out = zeros(size);
                    ops.leakyReluSquared(tensor(in[0], size), LEAKY_SLOPE, out);
                    return read(out);
                },
                (in, w, grads) -> {
                    Tensor dX = tensor(grads[0], size);
                    ops.leakyReluSquaredBackward(tensor(in[0], size), LEAKY_SLOPE, tensor(w, size), dX);
                    readInto(dX, grads[0]);
                },
                in -> {
                    double[] out = new double[size];
                    for (int i = 0; i < size; i++) {
                        double l = in[0][i] > 0 ? in[0][i] : LEAKY_SLOPE * (double) in[0][i];
                        out[i] = l * l;
                    }
                    return out;
                },
                gaussian(size));
    }

    private LayerOpCase softcap() {
        int size = dims.rows() * dims.vocab();
        return new LayerOpCase("softcap", List.of(input("z", scaled(gaussian(size), 2 * SOFTCAP))),
                in -> {
                    Tensor out = zeros(size);
                    ops.softcap(tensor(in[0], size), SOFTCAP, out);
                    return read(out);
                },
                null,
                in -> {
                    double[] out = new double[size];
                    for (int i = 0; i < size; i++) {
                        out[i] = SOFTCAP * Math.tanh(in[0][i] / (double) SOFTCAP);
                    }
                    return out;
                },
                gaussian(size));
    }

    /**
     * The loss's upstream gradient is one scalar (gradScale) for every row, so the case's upstream is that scalar
     * repeated and its backward passes the first of it.
     */
    private LayerOpCase softcapCrossEntropy() {
        int n = dims.rows();
        int vocab = dims.vocab();
        int[] targets = random.ints(n, 0, vocab).toArray();
        float[] upstream = new float[n];
        Arrays.fill(upstream, LOSS_GRAD_SCALE);
        return new LayerOpCase("softcapCrossEntropy", List.of(input("z", scaled(gaussian(n * vocab), SOFTCAP))),
                in -> {
                    Tensor loss = zeros(n);
                    ops.softcapCrossEntropy(tensor(in[0], n, vocab), ints(targets), SOFTCAP, loss, null, 0f);
                    return read(loss);
                },
                (in, w, grads) -> {
                    Tensor dZ = tensor(grads[0], n, vocab);
                    ops.softcapCrossEntropy(tensor(in[0], n, vocab), ints(targets), SOFTCAP, zeros(n), dZ, w[0]);
                    readInto(dZ, grads[0]);
                },
                in -> {
                    double[] loss = new double[n];
                    for (int r = 0; r < n; r++) {
                        double[] capped = new double[vocab];
                        double sum = 0;
                        for (int j = 0; j < vocab; j++) {
                            capped[j] = SOFTCAP * Math.tanh(in[0][r * vocab + j] / (double) SOFTCAP);
                            sum += Math.exp(capped[j]);
                        }
                        loss[r] = Math.log(sum) - capped[targets[r]];
                    }
                    return loss;
                },
                upstream);
    }

    /** Both outputs, mixed then normed, as one; the upstream gradient likewise reaches both. */
    private LayerOpCase residualMixRmsNorm() {
        int n = dims.rows();
        int d = dims.width();
        return new LayerOpCase("residualMixRmsNorm",
                List.of(input("x", gaussian(n * d)), input("x0", gaussian(n * d)), input("mix", gaussian(2 * d))),
                in -> {
                    Tensor mixed = zeros(n, d);
                    Tensor normed = zeros(n, d);
                    ops.residualMixRmsNorm(tensor(in[0], n, d), tensor(in[1], n, d), tensor(in[2], 2, d), NORM_SCALE,
                            NORM_EPS, mixed, normed, zeros(n));
                    return concatenated(read(mixed), read(normed));
                },
                (in, w, grads) -> {
                    Tensor x = tensor(in[0], n, d);
                    Tensor x0 = tensor(in[1], n, d);
                    Tensor mix = tensor(in[2], 2, d);
                    Tensor invRms = zeros(n);
                    ops.residualMixRmsNorm(x, x0, mix, NORM_SCALE, NORM_EPS, zeros(n, d), zeros(n, d), invRms);
                    Tensor dX = tensor(grads[0], n, d);
                    Tensor dX0 = tensor(grads[1], n, d);
                    Tensor dMix = tensor(grads[2], 2, d);
                    ops.residualMixRmsNormBackward(x, x0, mix, invRms, NORM_SCALE, tensor(part(w, 0, n * d), n, d),
                            tensor(part(w, 1, n * d), n, d), dX, dX0, dMix);
                    readInto(dX, grads[0]);
                    readInto(dX0, grads[1]);
                    readInto(dMix, grads[2]);
                },
                in -> {
                    double[] mixed = new double[n * d];
                    for (int i = 0; i < n * d; i++) {
                        int j = i % d;
                        mixed[i] = (double) in[2][j] * in[0][i] + (double) in[2][d + j] * in[1][i];
                    }
                    return withReferenceNorm(mixed, n, d);
                },
                gaussian(2 * n * d));
    }

    /** Both outputs, out then normed, as one; the upstream gradient likewise reaches both. */
    private LayerOpCase scaledResidualRmsNorm() {
        int n = dims.rows();
        int d = dims.width();
        return new LayerOpCase("scaledResidualRmsNorm",
                List.of(input("x", gaussian(n * d)), input("scale", gaussian(d)), input("y", gaussian(n * d))),
                in -> {
                    Tensor out = zeros(n, d);
                    Tensor normed = zeros(n, d);
                    ops.scaledResidualRmsNorm(tensor(in[0], n, d), tensor(in[1], d), tensor(in[2], n, d), NORM_SCALE,
                            NORM_EPS, out, normed, zeros(n));
                    return concatenated(read(out), read(normed));
                },
                (in, w, grads) -> {
                    Tensor scale = tensor(in[1], d);
                    Tensor y = tensor(in[2], n, d);
                    Tensor out = zeros(n, d);
                    Tensor invRms = zeros(n);
                    ops.scaledResidualRmsNorm(tensor(in[0], n, d), scale, y, NORM_SCALE, NORM_EPS, out, zeros(n, d),
                            invRms);
                    Tensor dX = tensor(grads[0], n, d);
                    Tensor dScale = tensor(grads[1], d);
                    Tensor dY = tensor(grads[2], n, d);
                    ops.scaledResidualRmsNormBackward(scale, y, out, invRms, NORM_SCALE,
                            tensor(part(w, 0, n * d), n, d), tensor(part(w, 1, n * d), n, d), dX, dY, dScale);
                    readInto(dX, grads[0]);
                    readInto(dScale, grads[1]);
                    readInto(dY, grads[2]);
                },
                in -> {
                    double[] out = new double[n * d];
                    for (int i = 0; i < n * d; i++) {
                        out[i] = in[0][i] + (double) in[1][i % d] * in[2][i];
                    }
                    return withReferenceNorm(out, n, d);
                },
                gaussian(2 * n * d));
    }

    /** values [n, d] followed by their rms_norm times NORM_SCALE, in float64. */
    private static double[] withReferenceNorm(double[] values, int n, int d) {
        double[] both = Arrays.copyOf(values, 2 * n * d);
        for (int r = 0; r < n; r++) {
            double squares = 0;
            for (int j = 0; j < d; j++) {
                squares += values[r * d + j] * values[r * d + j];
            }
            double inv = 1 / Math.sqrt(squares / d + NORM_EPS);
            for (int j = 0; j < d; j++) {
                both[n * d + r * d + j] = values[r * d + j] * inv * NORM_SCALE;
            }
        }
        return both;
    }

    private static float[] concatenated(float[] first, float[] second) {
        float[] both = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        return both;
    }

    /** The index-th of the equal parts of length {@code length} that {@code values} is made of. */
    private static float[] part(float[] values, int index, int length) {
        return Arrays.copyOfRange(values, index * length, (index + 1) * length);
    }

    private static LayerOpCase.Input input(String name, float[] values) {
        return new LayerOpCase.Input(name, values);
    }

    private float[] gaussian(int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }

    private static float[] scaled(float[] values, float factor) {
        for (int i = 0; i < values.length; i++) {
            values[i] *= factor;
        }
        return values;
    }

    private Tensor tensor(float[] values, int... shape) {
        return backend.tensors().upload(DType.F32, values, shape);
    }

    private Tensor ints(int[] values) {
        return backend.tensors().uploadInts(values, values.length);
    }

    private Tensor zeros(int... shape) {
        return backend.tensors().zeros(DType.F32, shape);
    }

    private float[] read(Tensor t) {
        return backend.tensors().download(t);
    }

    /** Copies a gradient tensor back into the array it was uploaded from. */
    private void readInto(Tensor t, float[] values) {
        System.arraycopy(read(t), 0, values, 0, values.length);
    }
}
