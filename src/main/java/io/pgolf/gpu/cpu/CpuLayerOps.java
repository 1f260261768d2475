package io.pgolf.gpu.cpu;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.RopeTable;
import io.pgolf.gpu.Tensor;

/** {@link LayerOps} in plain Java, float32. (Being written: every method below still throws.) */
final class CpuLayerOps implements LayerOps {
    private final CpuThreads threads;

    CpuLayerOps(CpuThreads threads) {
        this.threads = threads;
    }

    @Override
    public void embedding(Tensor ids, Tensor weight, Tensor out) {
        throw new UnsupportedOperationException("embedding");
    }

    @Override
    public void embeddingBackward(Tensor ids, Tensor dOut, Tensor dWeight) {
        throw new UnsupportedOperationException("embeddingBackward");
    }

    @Override
    public void rmsNorm(Tensor x, float scale, float eps, Tensor out, Tensor invRms) {
        throw new UnsupportedOperationException("rmsNorm");
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor invRms, float scale, Tensor dOut, Tensor dX) {
        throw new UnsupportedOperationException("rmsNormBackward");
    }

    @Override
    public void residualMix(Tensor x, Tensor x0, Tensor mix, Tensor out) {
        throw new UnsupportedOperationException("residualMix");
    }

    @Override
    public void residualMixBackward(Tensor x, Tensor x0, Tensor mix, Tensor dOut, Tensor dX, Tensor dX0, Tensor dMix) {
        throw new UnsupportedOperationException("residualMixBackward");
    }

    @Override
    public void scaledResidual(Tensor x, Tensor scale, Tensor y, Tensor out) {
        throw new UnsupportedOperationException("scaledResidual");
    }

    @Override
    public void scaledResidualBackward(Tensor scale, Tensor y, Tensor dOut, Tensor dX, Tensor dY, Tensor dScale) {
        throw new UnsupportedOperationException("scaledResidualBackward");
    }

    @Override
    public void skipGate(Tensor x, Tensor skip, Tensor weight, Tensor gate, Tensor out) {
        throw new UnsupportedOperationException("skipGate");
    }

    @Override
    public void skipGateBackward(Tensor x, Tensor skip, Tensor weight, Tensor gate, Tensor dOut, Tensor dX, Tensor dSkip, Tensor dWeight, Tensor dGate) {
        throw new UnsupportedOperationException("skipGateBackward");
    }

    @Override
    public void qkNormRope(Tensor x, int heads, int headDim, RopeTable rope, int seqLen, Tensor gain, float eps, Tensor out, Tensor invRms) {
        throw new UnsupportedOperationException("qkNormRope");
    }

    @Override
    public void qkNormRopeBackward(Tensor x, int heads, int headDim, RopeTable rope, int seqLen, Tensor gain, Tensor invRms, Tensor dOut, Tensor dX, Tensor dGain) {
        throw new UnsupportedOperationException("qkNormRopeBackward");
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp) {
        throw new UnsupportedOperationException("attention");
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp, Tensor dOut, Tensor dQ, Tensor dK, Tensor dV) {
        throw new UnsupportedOperationException("attentionBackward");
    }

    @Override
    public void exclusiveSelfAttention(Tensor y, Tensor v, AttentionShape shape, Tensor out) {
        throw new UnsupportedOperationException("exclusiveSelfAttention");
    }

    @Override
    public void exclusiveSelfAttentionBackward(Tensor y, Tensor v, AttentionShape shape, Tensor dOut, Tensor dY, Tensor dV) {
        throw new UnsupportedOperationException("exclusiveSelfAttentionBackward");
    }

    @Override
    public void leakyReluSquared(Tensor x, float slope, Tensor out) {
        throw new UnsupportedOperationException("leakyReluSquared");
    }

    @Override
    public void leakyReluSquaredBackward(Tensor x, float slope, Tensor dOut, Tensor dX) {
        throw new UnsupportedOperationException("leakyReluSquaredBackward");
    }

    @Override
    public void softcap(Tensor z, float cap, Tensor out) {
        throw new UnsupportedOperationException("softcap");
    }

    @Override
    public void softcapCrossEntropy(Tensor z, Tensor targets, float cap, Tensor loss, Tensor dZ, float gradScale) {
        throw new UnsupportedOperationException("softcapCrossEntropy");
    }
}
