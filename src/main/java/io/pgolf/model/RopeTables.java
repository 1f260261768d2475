package io.pgolf.model;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.RopeTable;

import java.util.HashMap;
import java.util.Map;

/**
 * The rotary tables of every sequence length used so far, computed as the reference's Rotary module does:
 * inverse frequencies 1 / base^(2i / dims) in float32; past the training length L_train the base grows to
 * base * (L / L_train)^(dims / (dims - 2)) (NTK-style scaling), so longer windows keep the lowest frequency's
 * period in proportion. Positions are exact integers.
 *
 * <p>The tables hold cos and sin of position * frequency; {@link io.pgolf.gpu.LayerOps#qkvNormRope} applies them in
 * the reference's direction (apply_rotary_emb: x1 cos + x2 sin, -x1 sin + x2 cos).
 *
 * <p>With bfloat16 activations the record's tables carry two roundings (reference NOTES §1.4): the stored
 * inv_freq buffer is bfloat16 (the rescaled one past L_train is recomputed in float32), and cos/sin are cast to
 * bfloat16. Both are reproduced here when the backend computes in BF16.
 */
final class RopeTables implements AutoCloseable {
    private final Backend backend;
    private final int dims;
    private final double base;
    private final int trainSeqLen;
    private final boolean bf16;
    private final Map<Integer, RopeTable> bySeqLen = new HashMap<>();

    RopeTables(Backend backend, int dims, double base, int trainSeqLen) {
        this.backend = backend;
        this.dims = dims;
        this.base = base;
        this.trainSeqLen = trainSeqLen;
        this.bf16 = backend.activationType() == DType.BF16;
    }

    RopeTable forLength(int seqLen) {
        return bySeqLen.computeIfAbsent(seqLen, this::build);
    }

    /** The dims / 2 inverse frequencies used for sequences of seqLen positions. */
    static float[] inverseFrequencies(int dims, double base, int trainSeqLen, int seqLen, boolean bf16) {
        double effectiveBase = base;
        boolean rescaled = seqLen > trainSeqLen;
        if (rescaled) {
            if (dims == 2) {
                throw new IllegalArgumentException("RoPE base scaling past the training length needs more than 2"
                        + " rotated dims (the exponent is dims / (dims - 2))");
            }
            effectiveBase = base * Math.pow((double) seqLen / trainSeqLen, (double) dims / (dims - 2));
        }
        float[] inverse = new float[dims / 2];
        for (int i = 0; i < inverse.length; i++) {
            float exponent = (float) (2 * i) / dims;
            inverse[i] = 1f / (float) Math.pow((float) effectiveBase, exponent);
            if (bf16 && !rescaled) {
                inverse[i] = roundToBf16(inverse[i]);
            }
        }
        return inverse;
    }

    private RopeTable build(int seqLen) {
        float[] inverse = inverseFrequencies(dims, base, trainSeqLen, seqLen, bf16);
        int half = inverse.length;
        float[] cos = new float[seqLen * half];
        float[] sin = new float[seqLen * half];
        for (int t = 0; t < seqLen; t++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) t * inverse[i];
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
                if (bf16) {
                    cos[t * half + i] = roundToBf16(cos[t * half + i]);
                    sin[t * half + i] = roundToBf16(sin[t * half + i]);
                }
            }
        }
        return new RopeTable(dims, seqLen, backend.tensors().upload(DType.F32, cos, seqLen, half),
                backend.tensors().upload(DType.F32, sin, seqLen, half));
    }

    /** The nearest bfloat16 value (ties to even), as torch's float -> bfloat16 cast; finite inputs only. */
    static float roundToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(rounded & 0xFFFF0000);
    }

    @Override
    public void close() {
        bySeqLen.values().forEach(RopeTable::close);
        bySeqLen.clear();
    }
}
