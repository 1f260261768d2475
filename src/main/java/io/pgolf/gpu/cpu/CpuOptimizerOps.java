package io.pgolf.gpu.cpu;

import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.Tensor;

/** {@link OptimizerOps} in plain Java, float32 state. */
final class CpuOptimizerOps implements OptimizerOps {
    private final CpuThreads threads;

    CpuOptimizerOps(CpuThreads threads) {
        this.threads = threads;
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, float lr, float beta1, float beta2,
                      float eps, float weightDecay, int step) {
        float[] p = CpuTensor.of(param).floats();
        float[] g = CpuTensor.of(grad).floats();
        float[] m = CpuTensor.of(expAvg).floats();
        float[] v = CpuTensor.of(expAvgSq).floats();
        float decay = 1f - lr * weightDecay;
        float biasCorrection1 = (float) (1 - Math.pow(beta1, step));
        float biasCorrection2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float stepSize = lr / biasCorrection1;
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

    @Override
    public void normalizeRows(Tensor x, float eps) {
        float[] xs = CpuTensor.of(x).floats();
        int cols = x.dim(-1);
        threads.forRange(x.rows(), 16, (from, to) -> {
            for (int r = from; r < to; r++) {
                int base = r * cols;
                double sq = 0;
                for (int j = 0; j < cols; j++) {
                    sq += (double) xs[base + j] * xs[base + j];
                }
                float inv = (float) (1.0 / Math.max(Math.sqrt(sq), eps));
                for (int j = 0; j < cols; j++) {
                    xs[base + j] *= inv;
                }
            }
        });
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
}
