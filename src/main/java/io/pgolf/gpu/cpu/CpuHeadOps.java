package io.pgolf.gpu.cpu;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.RopeTable;
import io.pgolf.gpu.Tensor;

import java.util.Arrays;

import static io.pgolf.gpu.cpu.CpuLayerOps.rowGrain;
import static io.pgolf.gpu.cpu.ShapeChecks.requireMatrix;
import static io.pgolf.gpu.cpu.ShapeChecks.requireSize;

/**
 * The operations on single heads of a row, around attention: q/k normalization with rotary embedding and gain
 * before it, XSA after it. Work is split over rows; the gain's gradient, a sum over rows, goes through
 * {@link RowSums}.
 */
final class CpuHeadOps {
    /** The lower bound of the norm that F.normalize divides by (XSA's value directions). */
    private static final float NORMALIZE_EPS = 1e-12f;

    private final CpuThreads threads;

    CpuHeadOps(CpuThreads threads) {
        this.threads = threads;
    }

    private static float[] floats(Tensor t) {
        return CpuTensor.of(t).floats();
    }

    void qkNormRope(Tensor x, int heads, int headDim, RopeTable rope, int seqLen, Tensor gain, float eps,
                    Tensor out, Tensor invRms) {
        int rows = x.rows();
        int width = heads * headDim;
        requireHeads(x, heads, headDim, rope, seqLen, gain);
        requireMatrix(out, rows, width, "q/k norm-rope output");
        requireSize(invRms, (long) rows * heads, "q/k inverse rms");
        float[] xs = floats(x);
        float[] o = floats(out);
        float[] inv = floats(invRms);
        float[] cos = floats(rope.cos());
        float[] sin = floats(rope.sin());
        float[] gains = gain == null ? null : floats(gain);
        int ropeDims = rope.dims();
        int half = ropeDims / 2;
        threads.forRange(rows, rowGrain(width), (from, to) -> {
            for (int r = from; r < to; r++) {
                int angles = r % seqLen * half;
                for (int h = 0; h < heads; h++) {
                    int base = r * width + h * headDim;
                    double squares = 0;
                    for (int i = 0; i < headDim; i++) {
                        squares += (double) xs[base + i] * xs[base + i];
                    }
                    float headInv = (float) (1.0 / Math.sqrt(squares / headDim + eps));
                    inv[r * heads + h] = headInv;
                    float g = gains == null ? 1f : gains[h];
                    for (int i = 0; i < half; i++) {
                        float a = xs[base + i] * headInv;
                        float b = xs[base + i + half] * headInv;
                        float c = cos[angles + i];
                        float sn = sin[angles + i];
                        o[base + i] = (a * c + b * sn) * g;
                        o[base + i + half] = (b * c - a * sn) * g;
                    }
                    for (int i = ropeDims; i < headDim; i++) {
                        o[base + i] = xs[base + i] * headInv * g;
                    }
                }
            }
        });
    }

    private static void requireHeads(Tensor x, int heads, int headDim, RopeTable rope, int seqLen, Tensor gain) {
        if (x.dim(-1) != heads * headDim) {
            throw new IllegalArgumentException("q/k rows must hold " + heads + " heads of " + headDim + ", got "
                    + x.describe());
        }
        if (seqLen <= 0 || x.rows() % seqLen != 0) {
            throw new IllegalArgumentException(x.rows() + " q/k rows are not whole sequences of " + seqLen);
        }
        if (rope.dims() > headDim || rope.positions() < seqLen) {
            throw new IllegalArgumentException("a rotary table of " + rope.dims() + " dims and " + rope.positions()
                    + " positions does not cover heads of " + headDim + " at sequence length " + seqLen);
        }
        requireMatrix(rope.cos(), rope.positions(), rope.dims() / 2, "rotary cos");
        requireMatrix(rope.sin(), rope.positions(), rope.dims() / 2, "rotary sin");
        if (gain != null) {
            requireSize(gain, heads, "q gain");
        }
    }

    void qkNormRopeBackward(Tensor x, int heads, int headDim, RopeTable rope, int seqLen, Tensor gain,
                            Tensor invRms, Tensor dOut, Tensor dX, Tensor dGain) {
        int rows = x.rows();
        int width = heads * headDim;
        requireHeads(x, heads, headDim, rope, seqLen, gain);
        requireSize(invRms, (long) rows * heads, "q/k inverse rms");
        requireMatrix(dOut, rows, width, "q/k norm-rope output gradient");
        requireMatrix(dX, rows, width, "q/k norm-rope input gradient");
        if ((gain == null) != (dGain == null)) {
            throw new IllegalArgumentException("a gain gradient goes with a gain and only with one: gain "
                    + (gain == null ? "absent" : "given") + ", its gradient " + (dGain == null ? "absent" : "given"));
        }
        if (dGain != null) {
            requireSize(dGain, heads, "q gain gradient");
        }
        float[] xs = floats(x);
        float[] inv = floats(invRms);
        float[] gOut = floats(dOut);
        float[] dx = floats(dX);
        float[] cos = floats(rope.cos());
        float[] sin = floats(rope.sin());
        float[] gains = gain == null ? null : floats(gain);
        int ropeDims = rope.dims();
        int half = ropeDims / 2;
        // Per head: out = g R(n) with n = x r, R the rotation. dGain = sum(dOut . R(n)); dn = g R^T(dOut); then
        // the rms_norm backward dx = r (dn - x r^2 mean(dn x)).
        double[] gainSums = RowSums.over(threads, rows, gains == null ? 0 : heads, (from, to, partial) -> {
            float[] dn = new float[headDim];
            for (int r = from; r < to; r++) {
                int angles = r % seqLen * half;
                for (int h = 0; h < heads; h++) {
                    int base = r * width + h * headDim;
                    float headInv = inv[r * heads + h];
                    float g = gains == null ? 1f : gains[h];
                    double gainSum = 0;
                    for (int i = 0; i < half; i++) {
                        float a = xs[base + i] * headInv;
                        float b = xs[base + i + half] * headInv;
                        float c = cos[angles + i];
                        float sn = sin[angles + i];
                        float ga = gOut[base + i];
                        float gb = gOut[base + i + half];
                        gainSum += (double) ga * (a * c + b * sn) + (double) gb * (b * c - a * sn);
                        dn[i] = g * (ga * c - gb * sn);
                        dn[i + half] = g * (gb * c + ga * sn);
                    }
                    for (int i = ropeDims; i < headDim; i++) {
                        gainSum += (double) gOut[base + i] * (xs[base + i] * headInv);
                        dn[i] = g * gOut[base + i];
                    }
                    if (gains != null) {
                        partial[h] += gainSum;
                    }
                    double dnx = 0;
                    for (int i = 0; i < headDim; i++) {
                        dnx += (double) dn[i] * xs[base + i];
                    }
                    float projection = (float) (dnx * headInv * headInv / headDim);
                    for (int i = 0; i < headDim; i++) {
                        dx[base + i] += headInv * (dn[i] - xs[base + i] * projection);
                    }
                }
            }
        });
        if (dGain != null) {
            RowSums.addInto(gainSums, floats(dGain));
        }
    }

    /** unit = v / max(||v||, eps) for the headDim values of v at offset; returns the divisor. */
    private static float normalize(float[] v, int offset, int headDim, float[] unit) {
        double squares = 0;
        for (int i = 0; i < headDim; i++) {
            squares += (double) v[offset + i] * v[offset + i];
        }
        float divisor = (float) Math.max(Math.sqrt(squares), NORMALIZE_EPS);
        for (int i = 0; i < headDim; i++) {
            unit[i] = v[offset + i] / divisor;
        }
        return divisor;
    }

    private static void requireExclusiveOperands(Tensor y, Tensor v, AttentionShape shape) {
        requireMatrix(y, shape.rows(), shape.heads() * shape.headDim(), "XSA attention output");
        requireMatrix(v, shape.rows(), shape.kvHeads() * shape.headDim(), "XSA values");
    }

    /** out = y - c vHat per query head, c = y . vHat saved in projections [rows * heads]. */
    void exclusiveSelfAttention(Tensor y, Tensor v, AttentionShape shape, Tensor out, Tensor projections) {
        requireExclusiveOperands(y, v, shape);
        requireMatrix(out, shape.rows(), shape.heads() * shape.headDim(), "XSA output");
        requireSize(projections, (long) shape.rows() * shape.heads(), "XSA projections");
        float[] ys = floats(y);
        float[] vs = floats(v);
        float[] o = floats(out);
        float[] c = floats(projections);
        int headDim = shape.headDim();
        int group = shape.groupSize();
        int qWidth = shape.heads() * headDim;
        int kvWidth = shape.kvHeads() * headDim;
        threads.forRange(shape.rows(), rowGrain(qWidth), (from, to) -> {
            float[] unit = new float[headDim];
            for (int r = from; r < to; r++) {
                for (int kv = 0; kv < shape.kvHeads(); kv++) {
                    normalize(vs, r * kvWidth + kv * headDim, headDim, unit);
                    for (int h = kv * group; h < (kv + 1) * group; h++) {
                        int base = r * qWidth + h * headDim;
                        float projection = (float) dot(ys, base, unit, headDim);
                        c[r * shape.heads() + h] = projection;
                        for (int i = 0; i < headDim; i++) {
                            o[base + i] = ys[base + i] - projection * unit[i];
                        }
                    }
                }
            }
        });
    }

    private static double dot(float[] a, int offset, float[] b, int length) {
        double sum = 0;
        for (int i = 0; i < length; i++) {
            sum += (double) a[offset + i] * b[i];
        }
        return sum;
    }

    /** dY += ..., dV += ... of {@link #exclusiveSelfAttention}'s out. */
    void exclusiveSelfAttentionBackward(Tensor y, Tensor v, AttentionShape shape, Tensor dOut, Tensor dY, Tensor dV) {
        requireExclusiveOperands(y, v, shape);
        requireMatrix(dOut, shape.rows(), shape.heads() * shape.headDim(), "XSA output gradient");
        requireMatrix(dY, shape.rows(), shape.heads() * shape.headDim(), "XSA attention output gradient");
        requireMatrix(dV, shape.rows(), shape.kvHeads() * shape.headDim(), "XSA value gradient");
        float[] ys = floats(y);
        float[] vs = floats(v);
        float[] g = floats(dOut);
        float[] dy = floats(dY);
        float[] dv = floats(dV);
        int headDim = shape.headDim();
        int group = shape.groupSize();
        int qWidth = shape.heads() * headDim;
        int kvWidth = shape.kvHeads() * headDim;
        // out = y - (y . u) u: dy = g - (g . u) u and du = -((g . u) y + (y . u) g), summed over the group's heads;
        // u = v / ||v|| gives dv = (du - u (u . du)) / ||v||, or du / eps where the norm is clamped.
        threads.forRange(shape.rows(), rowGrain(qWidth), (from, to) -> {
            float[] unit = new float[headDim];
            float[] unitGrad = new float[headDim];
            for (int r = from; r < to; r++) {
                for (int kv = 0; kv < shape.kvHeads(); kv++) {
                    int vOff = r * kvWidth + kv * headDim;
                    float divisor = normalize(vs, vOff, headDim, unit);
                    Arrays.fill(unitGrad, 0f);
                    for (int h = kv * group; h < (kv + 1) * group; h++) {
                        int base = r * qWidth + h * headDim;
                        float yu = (float) dot(ys, base, unit, headDim);
                        float gu = (float) dot(g, base, unit, headDim);
                        for (int i = 0; i < headDim; i++) {
                            dy[base + i] += g[base + i] - gu * unit[i];
                            unitGrad[i] -= gu * ys[base + i] + yu * g[base + i];
                        }
                    }
                    float radial = divisor > NORMALIZE_EPS ? (float) dot(unitGrad, 0, unit, headDim) : 0f;
                    for (int i = 0; i < headDim; i++) {
                        dv[vOff + i] += (unitGrad[i] - unit[i] * radial) / divisor;
                    }
                }
            }
        });
    }
}
