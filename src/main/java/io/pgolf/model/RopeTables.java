package io.pgolf.model;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.RopeTable;

import java.util.HashMap;
import java.util.Map;

/**
 * The rotary tables of every sequence length used so far, computed as the reference's Rotary module does:
 * inverse frequencies 1 / base^(2i / dims) in float32; past the training length L_train the base grows to
 * base * (L / L_train)^(dims / (dims - 2)) (NTK-style scaling), so longer evaluation windows keep the lowest
 * frequency's period in proportion.
 */
final class RopeTables implements AutoCloseable {
    private final Backend backend;
    private final int dims;
    private final double base;
    private final int trainSeqLen;
    private final Map<Integer, RopeTable> bySeqLen = new HashMap<>();

    RopeTables(Backend backend, int dims, double base, int trainSeqLen) {
        this.backend = backend;
        this.dims = dims;
        this.base = base;
        this.trainSeqLen = trainSeqLen;
    }

    RopeTable forLength(int seqLen) {
        return bySeqLen.computeIfAbsent(seqLen, this::build);
    }

    private RopeTable build(int seqLen) {
        double effectiveBase = base;
        if (seqLen > trainSeqLen) {
            if (dims == 2) {
                throw new IllegalArgumentException("RoPE base scaling past the training length needs more than 2"
                        + " rotated dims (the exponent is dims / (dims - 2))");
            }
            effectiveBase = base * Math.pow((double) seqLen / trainSeqLen, (double) dims / (dims - 2));
        }
        int half = dims / 2;
        float[] inverseFrequency = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / dims;
            inverseFrequency[i] = 1f / (float) Math.pow((float) effectiveBase, exponent);
        }
        float[] cos = new float[seqLen * half];
        float[] sin = new float[seqLen * half];
        for (int t = 0; t < seqLen; t++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) t * inverseFrequency[i];
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        }
        return new RopeTable(dims, seqLen, backend.tensors().upload(DType.F32, cos, seqLen, half),
                backend.tensors().upload(DType.F32, sin, seqLen, half));
    }

    @Override
    public void close() {
        bySeqLen.values().forEach(RopeTable::close);
        bySeqLen.clear();
    }
}
