package io.pgolf.gpu.cpu;

import io.pgolf.gpu.Bfloat16;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.StackChecks;
import io.pgolf.gpu.Tensor;

import java.util.List;

/** {@link OptimizerOps} in plain Java, float32 state. */
final class CpuOptimizerOps implements OptimizerOps {
    private final CpuThreads threads;

    CpuOptimizerOps(CpuThreads threads) {
        this.threads = threads;
    }

    @Override
    public void globalNorm(List<Tensor> tensors, Tensor norm) {
        requireScalar(norm, "global norm");
        double squares = 0;
        for (Tensor t : tensors) {
            for (float v : CpuTensor.of(t).floats()) {
                squares += (double) v * v;
            }
        }
        CpuTensor.of(norm).floats()[0] = (float) Math.sqrt(squares);
    }

    @Override
    public void clipToNorm(List<Tensor> tensors, Tensor norm, float maxNorm) {
        requireScalar(norm, "clip norm");
        float coefficient = (1f / (CpuTensor.of(norm).floats()[0] + CLIP_NORM_EPS)) * maxNorm;
        if (coefficient > 1f) {
            coefficient = 1f;
        }
        float clipped = coefficient;
        for (Tensor t : tensors) {
            float[] values = CpuTensor.of(t).floats();
            threads.forRange(values.length, 1 << 15, (from, to) -> {
                for (int i = from; i < to; i++) {
                    values[i] *= clipped;
                }
            });
        }
    }

    @Override
    public void adamw(List<Tensor> params, List<Tensor> grads, List<Tensor> expAvg, List<Tensor> expAvgSq, float lr,
                      float beta1, float beta2, float eps, float weightDecay, int step) {
        requireAligned("AdamW", params, grads, expAvg, expAvgSq);
        float decay = 1f - lr * weightDecay;
        float biasCorrection1 = (float) (1 - Math.pow(beta1, step));
        float biasCorrection2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float stepSize = lr / biasCorrection1;
        for (int t = 0; t < params.size(); t++) {
            float[] p = CpuTensor.of(params.get(t)).floats();
            float[] g = CpuTensor.of(grads.get(t)).floats();
            float[] m = CpuTensor.of(expAvg.get(t)).floats();
            float[] v = CpuTensor.of(expAvgSq.get(t)).floats();
            threads.forRange(p.length, 1 << 14, (from, to) -> {
                for (int i = from; i < to; i++) {
                    p[i] *= decay;
                    m[i] = beta1 * m[i] + (1f - beta1) * g[i];
                    v[i] = beta2 * v[i] + (1f - beta2) * g[i] * g[i];
                    float denom = (float) Math.sqrt(v[i]) / biasCorrection2Sqrt + eps;
                    p[i] -= stepSize * m[i] / denom;
                }
            });
        }
    }

    @Override
    public void movingAverage(List<Tensor> averages, List<Tensor> values, double decay) {
        requireAligned("moving average", averages, values);
        float weight = (float) (1.0 - decay);
        float keep = (float) decay;
        for (int t = 0; t < averages.size(); t++) {
            float[] average = CpuTensor.of(averages.get(t)).floats();
            float[] value = CpuTensor.of(values.get(t)).floats();
            threads.forRange(average.length, 1 << 15, (from, to) -> {
                for (int i = from; i < to; i++) {
                    average[i] = weight * value[i] + keep * average[i];
                }
            });
        }
    }

    @Override
    public void nesterovMomentum(List<Tensor> grads, Tensor buf, Tensor update, float momentum, boolean normalizeRows,
                                 float rowEps) {
        int count = grads.size();
        StackChecks.requireMomentumStacks(count, buf, update);
        int rows = buf.dim(1);
        int cols = buf.dim(2);
        float[][] g = new float[count][];
        for (int i = 0; i < count; i++) {
            ShapeChecks.requireSize(grads.get(i), (long) rows * cols, "gradient " + i + " of a nesterov momentum");
            g[i] = CpuTensor.of(grads.get(i)).floats();
        }
        float[] b = CpuTensor.of(buf).floats();
        float[] u = CpuTensor.of(update).floats();
        threads.forRange(count * rows, 16, (from, to) -> {
            for (int row = from; row < to; row++) {
                float[] gradient = g[row / rows];
                int at = row % rows * cols;
                int base = row * cols;
                for (int j = 0; j < cols; j++) {
                    b[base + j] = gradient[at + j] + momentum * b[base + j];
                    u[base + j] = momentum * b[base + j] + gradient[at + j];
                }
                if (normalizeRows) {
                    double sq = 0;
                    for (int j = 0; j < cols; j++) {
                        sq += (double) u[base + j] * u[base + j];
                    }
                    float inv = (float) (1.0 / Math.max(Math.sqrt(sq), rowEps));
                    for (int j = 0; j < cols; j++) {
                        u[base + j] *= inv;
                    }
                }
            }
        });
    }

    @Override
    public void normalizeBfloat16(Tensor src, Tensor dst, float eps) {
        float[] s = CpuTensor.of(src).floats();
        float[] d = CpuTensor.of(dst).floats();
        requireSameSize("bfloat16 normalization", s, d);
        int count = src.rank() == 3 ? src.dim(0) : 1;
        int n = count == 0 ? 0 : s.length / count;
        // Every norm first, each summed in order on one thread: dst may be src.
        float[] inverses = new float[count];
        threads.forRange(count, 1, (from, to) -> {
            for (int matrix = from; matrix < to; matrix++) {
                double squares = 0;
                for (int i = matrix * n; i < (matrix + 1) * n; i++) {
                    double x = Bfloat16.round(s[i]);
                    squares += x * x;
                }
                float norm = Bfloat16.round((float) Math.sqrt(squares));
                inverses[matrix] = 1f / Bfloat16.round(norm + eps);
            }
        });
        threads.forRange(s.length, 1 << 15, (from, to) -> {
            for (int i = from; i < to; i++) {
                d[i] = Bfloat16.round(Bfloat16.round(s[i]) * inverses[i / n]);
            }
        });
    }

    @Override
    public void roundedScaleAdd(float alpha, Tensor x, Tensor y, Tensor out) {
        float[] xs = CpuTensor.of(x).floats();
        float[] ys = y == null ? null : CpuTensor.of(y).floats();
        float[] os = CpuTensor.of(out).floats();
        requireSameSize("rounded scale-add", xs, ys == null ? xs : ys, os);
        threads.forRange(os.length, 1 << 15, (from, to) -> {
            for (int i = from; i < to; i++) {
                float scaled = Bfloat16.round(alpha * xs[i]);
                os[i] = ys == null ? scaled : Bfloat16.round(scaled + ys[i]);
            }
        });
    }

    @Override
    public void applyRoundedUpdate(List<Tensor> params, Tensor update, float scale, float lr, float decay) {
        int count = params.size();
        long n = count == 0 ? 0 : params.getFirst().size();
        for (Tensor p : params) {
            ShapeChecks.requireSize(p, n, "a parameter of a rounded update");
        }
        ShapeChecks.requireSize(update, count * n, "the update stack of " + count + " parameters");
        float[] u = CpuTensor.of(update).floats();
        float negativeLr = -lr;
        for (int t = 0; t < count; t++) {
            float[] p = CpuTensor.of(params.get(t)).floats();
            int at = t * p.length;
            threads.forRange(p.length, 1 << 15, (from, to) -> {
                for (int i = from; i < to; i++) {
                    p[i] = negativeLr * Bfloat16.round(scale * u[at + i]) + decay * p[i];
                }
            });
        }
    }

    @Override
    public void sgdMomentum(Tensor param, Tensor grad, Tensor buf, float lr, float momentum, boolean nesterov,
                            boolean firstStep) {
        float[] p = CpuTensor.of(param).floats();
        float[] g = CpuTensor.of(grad).floats();
        float[] b = CpuTensor.of(buf).floats();
        threads.forRange(p.length, 1 << 14, (from, to) -> {
            for (int i = from; i < to; i++) {
                b[i] = firstStep ? g[i] : momentum * b[i] + g[i];
                p[i] -= lr * (nesterov ? g[i] + momentum * b[i] : b[i]);
            }
        });
    }

    private static void requireScalar(Tensor t, String what) {
        if (t.dtype() != DType.F32 || t.size() != 1) {
            throw new IllegalArgumentException(what + " must be an F32 tensor of one value, got " + t.describe());
        }
    }

    @SafeVarargs
    private static void requireAligned(String what, List<Tensor>... lists) {
        for (List<Tensor> list : lists) {
            if (list.size() != lists[0].size()) {
                throw new IllegalArgumentException(what + ": lists of " + lists[0].size() + " and " + list.size()
                        + " tensors");
            }
        }
        for (int i = 0; i < lists[0].size(); i++) {
            for (List<Tensor> list : lists) {
                if (list.get(i).size() != lists[0].get(i).size()) {
                    throw new IllegalArgumentException(what + ": tensor " + i + " is " + list.get(i).describe()
                            + ", its first operand " + lists[0].get(i).describe());
                }
            }
        }
    }

    private static void requireSameSize(String what, float[]... arrays) {
        for (float[] a : arrays) {
            if (a.length != arrays[0].length) {
                throw new IllegalArgumentException(what + ": operands of " + arrays[0].length + " and " + a.length
                        + " values");
            }
        }
    }
}
