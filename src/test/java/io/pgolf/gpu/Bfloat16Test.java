package io.pgolf.gpu;

import io.pgolf.gpu.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Bfloat16Test {
    /** The nearest of the two bfloat16 neighbours of x by exact decimal distance, ties to the even one. */
    private static float nearestByDistance(float x) {
        int bits = Float.floatToRawIntBits(x);
        float below = Float.intBitsToFloat(bits & 0xFFFF0000);
        float above = Float.intBitsToFloat((bits & 0xFFFF0000) + 0x10000);
        if (below == x) {
            return x;
        }
        BigDecimal exact = new BigDecimal(x);
        int order = exact.subtract(new BigDecimal(below)).abs().compareTo(new BigDecimal(above).subtract(exact).abs());
        if (order != 0) {
            return order < 0 ? below : above;
        }
        return ((Float.floatToRawIntBits(below) >>> 16) & 1) == 0 ? below : above;
    }

    @Test
    void roundsToNearestTiesToEven() {
        Random random = new Random(11);
        for (int i = 0; i < 200_000; i++) {
            float x = Float.intBitsToFloat(random.nextInt() & 0xBFFFFFFF); // finite: exponent below all-ones
            assertEquals(nearestByDistance(x), Bfloat16.round(x), "x = " + x);
        }
        // Exact ties: halfway between 1 and its bfloat16 successor goes to 1 (even); the next tie goes up.
        assertEquals(1f, Bfloat16.round(Float.intBitsToFloat(0x3F808000)));
        assertEquals(Float.intBitsToFloat(0x3F820000), Bfloat16.round(Float.intBitsToFloat(0x3F818000)));
    }

    @Test
    void keepsSpecialValues() {
        assertTrue(Float.isNaN(Bfloat16.round(Float.NaN)));
        assertEquals(Float.POSITIVE_INFINITY, Bfloat16.round(Float.POSITIVE_INFINITY));
        assertEquals(Float.NEGATIVE_INFINITY, Bfloat16.round(Float.MAX_VALUE * -1f));
        assertEquals(-0f, Bfloat16.round(-0f));
    }

    @Test
    void cpuTensorRoundingMatchesScalarRounding() {
        try (CpuBackend backend = new CpuBackend(2)) {
            float[] values = new float[70_000];
            Random random = new Random(3);
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            Tensor t = backend.tensors().upload(DType.F32, values, values.length);
            backend.tensors().roundToBfloat16(t);
            float[] expected = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                expected[i] = nearestByDistance(values[i]);
            }
            assertArrayEquals(expected, backend.tensors().download(t));
        }
    }
}
