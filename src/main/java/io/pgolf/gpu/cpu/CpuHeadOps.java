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
 * before it (taking q, k and v apart from their one product), XSA after it. Work is split over rows; the gain's
 * gradient, a sum over rows, goes through {@link RowSums}.
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

    /** Where the heads of a q|k|v row are and what the rotary embedding needs of them. */
    private record QkvRows(int heads, int kvHeads, int headDim, int width, int ropeDims, int seqLen, float[] cos,
                           float[] sin) {
        int normedHeads() {
            return heads + kvHeads;
        }

        int qWidth() {
            return heads * headDim;
        }

        int kvWidth() {
            return kvHeads * headDim;
        }
    }

    private static QkvRows qkvRows(Tensor qkv, AttentionShape shape, RopeTable rope, Tensor gain) {
        int headDim = shape.headDim();
        int width = (shape.heads() + 2 * shape.kvHeads()) * headDim;
        requireMatrix(qkv, shape.rows(), width, "q|k|v");
        rope.requireCovers(headDim, shape.seqLen());
        requireSize(gain, shape.heads(), "q gain");
        return new QkvRows(shape.heads(), shape.kvHeads(), headDim, width, rope.dims(), shape.seqLen(),
                floats(rope.cos()), floats(rope.sin()));
    }

    void qkvNormRope(Tensor qkv, AttentionShape shape, RopeTable rope, Tensor gain, float eps, Tensor q, Tensor k,
                     Tensor v, Tensor invRms) {
        QkvRows layout = qkvRows(qkv, shape, rope, gain);
        int rows = shape.rows();
        requireMatrix(q, rows, layout.qWidth(), "q");
        requireMatrix(k, rows, layout.kvWidth(), "k");
        requireMatrix(v, rows, layout.kvWidth(), "v");
        requireSize(invRms, (long) rows * layout.normedHeads(), "q/k inverse rms");
        float[] xs = floats(qkv);
        float[] qs = floats(q);
        float[] ks = floats(k);
        float[] vs = floats(v);
        float[] inv = floats(invRms);
        float[] gains = floats(gain);
        int headDim = layout.headDim();
        threads.forRange(rows, rowGrain(layout.width()), (from, to) -> {
            for (int r = from; r < to; r++) {
                int angles = r % layout.seqLen() * (layout.ropeDims() / 2);
                int rowBase = r * layout.width();
                for (int h = 0; h < layout.heads(); h++) {
                    inv[r * layout.normedHeads() + h] = normRope(layout, xs, rowBase + h * headDim, angles, gains[h],
                            eps, qs, r * layout.qWidth() + h * headDim);
                }
                for (int h = 0; h < layout.kvHeads(); h++) {
                    inv[r * layout.normedHeads() + layout.heads() + h] = normRope(layout, xs,
                            rowBase + (layout.heads() + h) * headDim, angles, 1f, eps, ks,
                            r * layout.kvWidth() + h * headDim);
                }
                System.arraycopy(xs, rowBase + layout.normedHeads() * headDim, vs, r * layout.kvWidth(),
                        layout.kvWidth());
            }
        });
    }

    /** One head: out[outBase..] = R(x r) * gain at the table's row from angles; returns r, the inverse rms. */
    private static float normRope(QkvRows layout, float[] xs, int base, int angles, float gain, float eps,
                                  float[] out, int outBase) {
        int headDim = layout.headDim();
        int half = layout.ropeDims() / 2;
        double squares = 0;
        for (int i = 0; i < headDim; i++) {
            squares += (double) xs[base + i] * xs[base + i];
        }
        float headInv = (float) (1.0 / Math.sqrt(squares / headDim + eps));
        for (int i = 0; i < half; i++) {
            float a = xs[base + i] * headInv;
            float b = xs[base + i + half] * headInv;
            float c = layout.cos()[angles + i];
            float sn = layout.sin()[angles + i];
            out[outBase + i] = (a * c + b * sn) * gain;
            out[outBase + i + half] = (b * c - a * sn) * gain;
        }
        for (int i = layout.ropeDims(); i < headDim; i++) {
            out[outBase + i] = xs[base + i] * headInv * gain;
        }
        return headInv;
    }

    void qkvNormRopeBackward(Tensor qkv, AttentionShape shape, RopeTable rope, Tensor gain, Tensor invRms, Tensor dQ,
                             Tensor dK, Tensor dV, Tensor dQkv, Tensor dGain) {
        QkvRows layout = qkvRows(qkv, shape, rope, gain);
        int rows = shape.rows();
        requireSize(invRms, (long) rows * layout.normedHeads(), "q/k inverse rms");
        requireMatrix(dQ, rows, layout.qWidth(), "q gradient");
        requireMatrix(dK, rows, layout.kvWidth(), "k gradient");
        requireMatrix(dV, rows, layout.kvWidth(), "v gradient");
        requireMatrix(dQkv, rows, layout.width(), "q|k|v gradient");
        requireSize(dGain, layout.heads(), "q gain gradient");
        float[] xs = floats(qkv);
        float[] inv = floats(invRms);
        float[] dq = floats(dQ);
        float[] dk = floats(dK);
        float[] dv = floats(dV);
        float[] dx = floats(dQkv);
        float[] gains = floats(gain);
        int headDim = layout.headDim();
        double[] gainSums = RowSums.over(threads, rows, layout.heads(), (from, to, partial) -> {
            float[] dn = new float[headDim];
            for (int r = from; r < to; r++) {
                int angles = r % layout.seqLen() * (layout.ropeDims() / 2);
                int rowBase = r * layout.width();
                for (int h = 0; h < layout.heads(); h++) {
                    partial[h] += normRopeBackward(layout, xs, rowBase + h * headDim, angles, gains[h],
                            inv[r * layout.normedHeads() + h], dq, r * layout.qWidth() + h * headDim, dn, dx);
                }
                for (int h = 0; h < layout.kvHeads(); h++) {
                    normRopeBackward(layout, xs, rowBase + (layout.heads() + h) * headDim, angles, 1f,
                            inv[r * layout.normedHeads() + layout.heads() + h], dk,
                            r * layout.kvWidth() + h * headDim, dn, dx);
                }
                int vBase = rowBase + layout.normedHeads() * headDim;
                for (int i = 0; i < layout.kvWidth(); i++) {
                    dx[vBase + i] += dv[r * layout.kvWidth() + i];
                }
            }
        });
        RowSums.addInto(gainSums, floats(dGain));
    }

    /**
     * One head, with out = g R(n), n = x r (r the inverse rms, R the rotation): dn = g R^T(dOut), then the rms_norm
     * backward dx += r (dn - x r^2 mean(dn x)) into dx at the head's own place; returns the head's gain gradient
     * sum(dOut . R(n)). dn is scratch of headDim.
     */
    private static double normRopeBackward(QkvRows layout, float[] xs, int base, int angles, float gain,
                                           float headInv, float[] gOut, int outBase, float[] dn, float[] dx) {
        int headDim = layout.headDim();
        int half = layout.ropeDims() / 2;
        double gainSum = 0;
        for (int i = 0; i < half; i++) {
            float a = xs[base + i] * headInv;
            float b = xs[base + i + half] * headInv;
            float c = layout.cos()[angles + i];
            float sn = layout.sin()[angles + i];
            float ga = gOut[outBase + i];
            float gb = gOut[outBase + i + half];
            gainSum += (double) ga * (a * c + b * sn) + (double) gb * (b * c - a * sn);
            dn[i] = gain * (ga * c - gb * sn);
            dn[i + half] = gain * (gb * c + ga * sn);
        }
        for (int i = layout.ropeDims(); i < headDim; i++) {
            gainSum += (double) gOut[outBase + i] * (xs[base + i] * headInv);
            dn[i] = gain * gOut[outBase + i];
        }
        double dnx = 0;
        for (int i = 0; i < headDim; i++) {
            dnx += (double) dn[i] * xs[base + i];
        }
        float projection = (float) (dnx * headInv * headInv / headDim);
        for (int i = 0; i < headDim; i++) {
            dx[base + i] += headInv * (dn[i] - xs[base + i] * projection);
        }
        return gainSum;
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
