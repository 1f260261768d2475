package io.pgolf.gpu;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A backend that times every operation of another: it waits for the backend after each call
 * ({@link Backend#synchronize}), so each operation's time is its own, and adds it to a table by operation name.
 * For benchmarks' breakdowns of where a step's time goes; the waits cost a little overlap, so a timed step is
 * somewhat slower than an untimed one.
 */
public final class TimedBackend implements Backend {
    private final Backend inner;
    private final Map<String, long[]> nanosAndCalls = new LinkedHashMap<>();
    private final TensorOps tensors;
    private final LayerOps layers;
    private final OptimizerOps optimizer;

    public TimedBackend(Backend inner) {
        this.inner = inner;
        this.tensors = new TimedTensorOps(inner.tensors());
        this.layers = new TimedLayerOps(inner.layers());
        this.optimizer = new TimedOptimizerOps(inner.optimizer());
    }

    /** Per operation name: total nanoseconds and calls, in first-call order. */
    public Map<String, long[]> table() {
        Map<String, long[]> copy = new LinkedHashMap<>();
        nanosAndCalls.forEach((name, value) -> copy.put(name, value.clone()));
        return copy;
    }

    public void clear() {
        nanosAndCalls.clear();
    }

    private void timed(String op, Runnable call) {
        long start = System.nanoTime();
        call.run();
        inner.synchronize();
        long[] entry = nanosAndCalls.computeIfAbsent(op, k -> new long[2]);
        entry[0] += System.nanoTime() - start;
        entry[1]++;
    }

    @Override
    public String name() {
        return inner.name() + " (timed)";
    }

    @Override
    public TensorOps tensors() {
        return tensors;
    }

    @Override
    public LayerOps layers() {
        return layers;
    }

    @Override
    public OptimizerOps optimizer() {
        return optimizer;
    }

    @Override
    public DType activationType() {
        return inner.activationType();
    }

    @Override
    public float normEpsilon() {
        return inner.normEpsilon();
    }

    @Override
    public void synchronize() {
        inner.synchronize();
    }

    /** Closes nothing: the timed backend belongs to whoever opened it. */
    @Override
    public void close() {
    }

    private final class TimedTensorOps implements TensorOps {
        private final TensorOps ops;

        TimedTensorOps(TensorOps ops) {
            this.ops = ops;
        }

        @Override
        public Tensor zeros(DType dtype, int... shape) {
            Tensor[] out = new Tensor[1];
            timed("zeros", () -> out[0] = ops.zeros(dtype, shape));
            return out[0];
        }

        @Override
        public Tensor empty(DType dtype, int... shape) {
            Tensor[] out = new Tensor[1];
            timed("empty", () -> out[0] = ops.empty(dtype, shape));
            return out[0];
        }

        @Override
        public Tensor upload(DType dtype, float[] values, int... shape) {
            Tensor[] out = new Tensor[1];
            timed("upload", () -> out[0] = ops.upload(dtype, values, shape));
            return out[0];
        }

        @Override
        public Tensor uploadInts(int[] values, int... shape) {
            Tensor[] out = new Tensor[1];
            timed("upload", () -> out[0] = ops.uploadInts(values, shape));
            return out[0];
        }

        @Override
        public float[] download(Tensor t) {
            float[][] out = new float[1][];
            timed("download", () -> out[0] = ops.download(t));
            return out[0];
        }

        @Override
        public int[] downloadInts(Tensor t) {
            int[][] out = new int[1][];
            timed("download", () -> out[0] = ops.downloadInts(t));
            return out[0];
        }

        @Override
        public void copy(Tensor src, Tensor dst) {
            timed("copy", () -> ops.copy(src, dst));
        }

        @Override
        public void fill(Tensor t, float value) {
            timed("fill", () -> ops.fill(t, value));
        }

        @Override
        public void copyRows(Tensor src, Tensor dst, int dstRow) {
            timed("copyRows", () -> ops.copyRows(src, dst, dstRow));
        }

        @Override
        public void addRows(Tensor src, int srcRow, Tensor dst) {
            timed("addRows", () -> ops.addRows(src, srcRow, dst));
        }

        @Override
        public void gemm(boolean transposeA, boolean transposeB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
            timed(gemmName(transposeA, transposeB, a, b, c), () -> ops.gemm(transposeA, transposeB, alpha, a, b, beta, c));
        }

        @Override
        public void axpby(float alpha, Tensor x, float beta, Tensor y) {
            timed("axpby", () -> ops.axpby(alpha, x, beta, y));
        }

        @Override
        public void add(Tensor a, Tensor b, Tensor out) {
            timed("add", () -> ops.add(a, b, out));
        }

        @Override
        public void scale(Tensor t, float alpha) {
            timed("scale", () -> ops.scale(t, alpha));
        }

        @Override
        public void batchedGemm(boolean transposeA, boolean transposeB, float alpha, Tensor a, Tensor b, float beta,
                                Tensor c) {
            timed(batchedGemmName(transposeA, transposeB, a, b, c),
                    () -> ops.batchedGemm(transposeA, transposeB, alpha, a, b, beta, c));
        }

        @Override
        public void transpose(Tensor src, Tensor dst) {
            timed("transpose", () -> ops.transpose(src, dst));
        }

        @Override
        public void roundToBfloat16(Tensor t) {
            timed("roundToBfloat16", () -> ops.roundToBfloat16(t));
        }

        @Override
        public double sumOfSquares(Tensor t) {
            double[] out = new double[1];
            timed("sumOfSquares", () -> out[0] = ops.sumOfSquares(t));
            return out[0];
        }
    }

    private final class TimedLayerOps implements LayerOps {
        private final LayerOps ops;

        TimedLayerOps(LayerOps ops) {
            this.ops = ops;
        }

        @Override
        public void embedding(Tensor ids, Tensor weight, Tensor out) {
            timed("embedding", () -> ops.embedding(ids, weight, out));
        }

        @Override
        public void embeddingBackward(Tensor ids, Tensor dOut, Tensor dWeight) {
            timed("embeddingBackward", () -> ops.embeddingBackward(ids, dOut, dWeight));
        }

        @Override
        public void rmsNorm(Tensor x, float scale, float eps, Tensor out, Tensor invRms) {
            timed("rmsNorm", () -> ops.rmsNorm(x, scale, eps, out, invRms));
        }

        @Override
        public void rmsNormBackward(Tensor x, Tensor invRms, float scale, Tensor dOut, Tensor dX) {
            timed("rmsNormBackward", () -> ops.rmsNormBackward(x, invRms, scale, dOut, dX));
        }

        @Override
        public void residualMix(Tensor x, Tensor x0, Tensor mix, Tensor out) {
            timed("residualMix", () -> ops.residualMix(x, x0, mix, out));
        }

        @Override
        public void residualMixBackward(Tensor x, Tensor x0, Tensor mix, Tensor dOut, Tensor dX, Tensor dX0,
                                        Tensor dMix) {
            timed("residualMixBackward", () -> ops.residualMixBackward(x, x0, mix, dOut, dX, dX0, dMix));
        }

        @Override
        public void scaledResidual(Tensor x, Tensor scale, Tensor y, Tensor out) {
            timed("scaledResidual", () -> ops.scaledResidual(x, scale, y, out));
        }

        @Override
        public void scaledResidualBackward(Tensor scale, Tensor y, Tensor dOut, Tensor dX, Tensor dY, Tensor dScale) {
            timed("scaledResidualBackward", () -> ops.scaledResidualBackward(scale, y, dOut, dX, dY, dScale));
        }

        @Override
        public void residualMixRmsNorm(Tensor x, Tensor x0, Tensor mix, float scale, float eps, Tensor mixed,
                                       Tensor normed, Tensor invRms) {
            timed("residualMixRmsNorm", () -> ops.residualMixRmsNorm(x, x0, mix, scale, eps, mixed, normed, invRms));
        }

        @Override
        public void residualMixRmsNormBackward(Tensor x, Tensor x0, Tensor mix, Tensor invRms, float scale,
                                               Tensor dMixed, Tensor dNormed, Tensor dX, Tensor dX0, Tensor dMix) {
            timed("residualMixRmsNormBackward", () -> ops.residualMixRmsNormBackward(x, x0, mix, invRms, scale,
                    dMixed, dNormed, dX, dX0, dMix));
        }

        @Override
        public void scaledResidualRmsNorm(Tensor x, Tensor residualScale, Tensor y, float normScale, float eps,
                                          Tensor out, Tensor normed, Tensor invRms) {
            timed("scaledResidualRmsNorm", () -> ops.scaledResidualRmsNorm(x, residualScale, y, normScale, eps, out,
                    normed, invRms));
        }

        @Override
        public void scaledResidualRmsNormBackward(Tensor residualScale, Tensor y, Tensor out, Tensor invRms,
                                                  float normScale, Tensor dOut, Tensor dNormed, Tensor dX, Tensor dY,
                                                  Tensor dResidualScale) {
            timed("scaledResidualRmsNormBackward", () -> ops.scaledResidualRmsNormBackward(residualScale, y, out,
                    invRms, normScale, dOut, dNormed, dX, dY, dResidualScale));
        }

        @Override
        public void skipGate(Tensor x, Tensor skip, Tensor weight, Tensor gate, Tensor out) {
            timed("skipGate", () -> ops.skipGate(x, skip, weight, gate, out));
        }

        @Override
        public void skipGateBackward(Tensor x, Tensor skip, Tensor weight, Tensor gate, Tensor dOut, Tensor dX,
                                     Tensor dSkip, Tensor dWeight, Tensor dGate) {
            timed("skipGateBackward", () -> ops.skipGateBackward(x, skip, weight, gate, dOut, dX, dSkip, dWeight,
                    dGate));
        }

        @Override
        public void qkvNormRope(Tensor qkv, AttentionShape shape, RopeTable rope, Tensor gain, float eps, Tensor q,
                                Tensor k, Tensor v, Tensor invRms) {
            timed("qkvNormRope", () -> ops.qkvNormRope(qkv, shape, rope, gain, eps, q, k, v, invRms));
        }

        @Override
        public void qkvNormRopeBackward(Tensor qkv, AttentionShape shape, RopeTable rope, Tensor gain, Tensor invRms,
                                        Tensor dQ, Tensor dK, Tensor dV, Tensor dQkv, Tensor dGain) {
            timed("qkvNormRopeBackward", () -> ops.qkvNormRopeBackward(qkv, shape, rope, gain, invRms, dQ, dK, dV,
                    dQkv, dGain));
        }

        @Override
        public void attention(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp,
                              Tensor xsaProjections) {
            timed("attention", () -> ops.attention(q, k, v, shape, out, logSumExp, xsaProjections));
        }

        @Override
        public void attentionBackward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out,
                                      Tensor logSumExp, Tensor xsaProjections, Tensor dOut, Tensor dQ, Tensor dK,
                                      Tensor dV) {
            timed("attentionBackward", () -> ops.attentionBackward(q, k, v, shape, out, logSumExp, xsaProjections,
                    dOut, dQ, dK, dV));
        }

        @Override
        public void leakyReluSquared(Tensor x, float slope, Tensor out) {
            timed("leakyReluSquared", () -> ops.leakyReluSquared(x, slope, out));
        }

        @Override
        public void leakyReluSquaredBackward(Tensor x, float slope, Tensor dOut, Tensor dX) {
            timed("leakyReluSquaredBackward", () -> ops.leakyReluSquaredBackward(x, slope, dOut, dX));
        }

        @Override
        public void mlpHidden(Tensor x, Tensor w, float slope, Tensor h, Tensor a) {
            timed("mlpHidden", () -> ops.mlpHidden(x, w, slope, h, a));
        }

        @Override
        public void mlpHiddenBackward(Tensor dOut, Tensor vT, Tensor h, float slope, Tensor dH) {
            timed("mlpHiddenBackward", () -> ops.mlpHiddenBackward(dOut, vT, h, slope, dH));
        }

        @Override
        public void softcap(Tensor z, float cap, Tensor out) {
            timed("softcap", () -> ops.softcap(z, cap, out));
        }

        @Override
        public void softcapCrossEntropy(Tensor z, Tensor targets, float cap, Tensor loss, Tensor dZ, float gradScale) {
            timed("softcapCrossEntropy", () -> ops.softcapCrossEntropy(z, targets, cap, loss, dZ, gradScale));
        }
    }

    private final class TimedOptimizerOps implements OptimizerOps {
        private final OptimizerOps ops;

        TimedOptimizerOps(OptimizerOps ops) {
            this.ops = ops;
        }

        @Override
        public void globalNorm(List<Tensor> tensors, Tensor norm) {
            timed("globalNorm", () -> ops.globalNorm(tensors, norm));
        }

        @Override
        public void clipToNorm(List<Tensor> tensors, Tensor norm, float maxNorm) {
            timed("clipToNorm", () -> ops.clipToNorm(tensors, norm, maxNorm));
        }

        @Override
        public void adamw(List<Tensor> params, List<Tensor> grads, List<Tensor> expAvg, List<Tensor> expAvgSq,
                          float lr, float beta1, float beta2, float eps, float weightDecay, int step) {
            timed("adamw", () -> ops.adamw(params, grads, expAvg, expAvgSq, lr, beta1, beta2, eps, weightDecay, step));
        }

        @Override
        public void movingAverage(List<Tensor> averages, List<Tensor> values, double decay) {
            timed("movingAverage", () -> ops.movingAverage(averages, values, decay));
        }

        @Override
        public void nesterovMomentum(List<Tensor> grads, Tensor buf, Tensor update, float momentum,
                                     boolean normalizeRows, float rowEps) {
            timed("nesterovMomentum", () -> ops.nesterovMomentum(grads, buf, update, momentum, normalizeRows, rowEps));
        }

        @Override
        public void normalizeBfloat16(Tensor src, Tensor dst, float eps) {
            timed("normalizeBfloat16", () -> ops.normalizeBfloat16(src, dst, eps));
        }

        @Override
        public void roundedScaleAdd(float alpha, Tensor x, Tensor y, Tensor out) {
            timed("roundedScaleAdd", () -> ops.roundedScaleAdd(alpha, x, y, out));
        }

        @Override
        public void applyRoundedUpdate(List<Tensor> params, Tensor update, float scale, float lr, float decay) {
            timed("applyRoundedUpdate", () -> ops.applyRoundedUpdate(params, update, scale, lr, decay));
        }

        @Override
        public void sgdMomentum(Tensor param, Tensor grad, Tensor buf, float lr, float momentum, boolean nesterov,
                                boolean firstStep) {
            timed("sgdMomentum", () -> ops.sgdMomentum(param, grad, buf, lr, momentum, nesterov, firstStep));
        }
    }

    /**
     * "gemm count x m x n x k" with the operands' layout and types, as {@link #gemmName} with the count in front (as
     * cuBLASLt's plans name a batch), so that breakdowns group it with the GEMMs; just "gemm batched" for operands that
     * are no stacks, which the operation rejects.
     */
    private static String batchedGemmName(boolean transposeA, boolean transposeB, Tensor a, Tensor b, Tensor c) {
        if (a.rank() != 3 || c.rank() != 3) {
            return "gemm batched";
        }
        int k = transposeA ? a.dim(-2) : a.dim(-1);
        return "gemm " + c.dim(0) + " x " + c.dim(-2) + "x" + c.dim(-1) + "x" + k + " " + (transposeA ? "T" : "N")
                + (transposeB ? "T" : "N") + " " + a.dtype() + "," + b.dtype() + "->" + c.dtype();
    }

    /** "gemm m x n x k" with the operands' layout and types: the breakdown by shape. */
    private static String gemmName(boolean transposeA, boolean transposeB, Tensor a, Tensor b, Tensor c) {
        int k = transposeA ? a.rows() : a.dim(-1);
        return "gemm " + c.rows() + "x" + c.dim(-1) + "x" + k + " " + (transposeA ? "T" : "N") + (transposeB ? "T" : "N")
                + " " + a.dtype() + "," + b.dtype() + "->" + c.dtype();
    }
}
