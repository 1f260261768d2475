package io.pgolf.model.quant;

import java.util.Arrays;

/**
 * One tensor of a quantized model (STACK §5), under the reference's parameter name: either integer codes with a
 * per-row float16 scale (GPTQ int6 matrices, the int8 embedding), or float16 values (small tensors).
 * Arrays are owned by the record; callers must not modify them.
 */
public sealed interface QuantizedTensor permits QuantizedTensor.Codes, QuantizedTensor.Float16 {
    String name();

    /** The original shape, outermost first. */
    int[] shape();

    /** Values of the dequantized tensor, row-major: code * scale of its row, or the float16 value. */
    float[] dequantize();

    /**
     * Row-wise integer codes: {@code codes[r * cols + c]} in [-(2^(bits-1) - 1), 2^(bits-1) - 1], and
     * {@code scales[r]} as IEEE binary16 bits. Dequantized value = code * float(scale).
     */
    record Codes(String name, int[] shape, int bits, byte[] codes, short[] scales) implements QuantizedTensor {
        public Codes {
            if (shape.length != 2) {
                throw new IllegalArgumentException(name + ": quantized codes need a matrix, got shape " + Arrays.toString(shape));
            }
            if (bits < 2 || bits > 8) {
                throw new IllegalArgumentException(name + ": bits must be in 2..8, got " + bits);
            }
            if (codes.length != (long) shape[0] * shape[1] || scales.length != shape[0]) {
                throw new IllegalArgumentException(name + ": " + codes.length + " codes and " + scales.length
                        + " scales do not fit shape " + Arrays.toString(shape));
            }
            int max = (1 << (bits - 1)) - 1;
            for (int i = 0; i < codes.length; i++) {
                if (codes[i] < -max || codes[i] > max) {
                    throw new IllegalArgumentException(name + ": code " + codes[i] + " at " + i + " is outside +-" + max);
                }
            }
        }

        @Override
        public float[] dequantize() {
            int cols = shape[1];
            float[] out = new float[codes.length];
            for (int r = 0; r < shape[0]; r++) {
                float scale = Float.float16ToFloat(scales[r]);
                for (int c = 0; c < cols; c++) {
                    out[r * cols + c] = codes[r * cols + c] * scale;
                }
            }
            return out;
        }
    }

    /** A small tensor kept as IEEE binary16 values. */
    record Float16(String name, int[] shape, short[] values) implements QuantizedTensor {
        public Float16 {
            long size = 1;
            for (int d : shape) {
                size *= d;
            }
            if (values.length != size) {
                throw new IllegalArgumentException(name + ": " + values.length + " values do not fit shape " + Arrays.toString(shape));
            }
        }

        @Override
        public float[] dequantize() {
            float[] out = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                out[i] = Float.float16ToFloat(values[i]);
            }
            return out;
        }
    }
}
