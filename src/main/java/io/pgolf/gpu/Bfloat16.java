package io.pgolf.gpu;

/** bfloat16 values held in a float: the top 16 bits of an IEEE float32. */
public final class Bfloat16 {
    private Bfloat16() {
    }

    /**
     * The bfloat16 nearest to {@code x}, ties to even, as a float: what torch's float32 to bfloat16 conversion
     * gives. NaN stays NaN; values beyond the largest bfloat16 round to infinity.
     */
    public static float round(float x) {
        if (Float.isNaN(x)) {
            return x;
        }
        int bits = Float.floatToRawIntBits(x);
        int lsb = (bits >>> 16) & 1;
        return Float.intBitsToFloat((bits + 0x7FFF + lsb) & 0xFFFF0000);
    }
}
