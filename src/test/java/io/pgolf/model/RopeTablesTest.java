package io.pgolf.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.pgolf.gpu.RopeTable;
import io.pgolf.gpu.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

class RopeTablesTest {
    /** The record's bfloat16 inv_freq buffer for ROPE_DIMS 16, as read back on an H200 (reference NOTES §0). */
    @Test
    void bf16InverseFrequenciesAreTheRecordsBuffer() {
        float[] record = {1.0f, 0.31640625f, 0.10009765625f, 0.03173828125f, 0.010009765625f, 0.0031585693359375f,
                0.00099945068359375f, 0.000316619873046875f};
        assertArrayEquals(record, RopeTables.inverseFrequencies(16, 1e4, 2048, 2048, true));
    }

    @Test
    void float32InverseFrequenciesFollowTheFormula() {
        float[] inverse = RopeTables.inverseFrequencies(16, 1e4, 2048, 1024, false);
        for (int i = 0; i < inverse.length; i++) {
            double expected = 1 / Math.pow(1e4, 2.0 * i / 16);
            assertEquals(expected, inverse[i], 1e-6 * expected, "frequency " + i);
        }
    }

    /** base * (L / L_train)^(d / (d - 2)) stretches the slowest rotation by exactly L / L_train. */
    @Test
    void pastTheTrainingLengthTheSlowestPeriodStretchesInProportion() {
        float[] trained = RopeTables.inverseFrequencies(16, 1e4, 2048, 2048, false);
        float[] doubled = RopeTables.inverseFrequencies(16, 1e4, 2048, 4096, false);
        assertEquals(trained[0], doubled[0], "the fastest frequency is base-independent");
        assertEquals(trained[7] / 2, doubled[7], 1e-6 * trained[7]);
        float[] fourfold = RopeTables.inverseFrequencies(8, 1e4, 32, 128, false);
        assertEquals(RopeTables.inverseFrequencies(8, 1e4, 32, 32, false)[3] / 4, fourfold[3], 1e-6 * fourfold[3]);
    }

    @Test
    void tablesHoldTheNegatedAnglesOfExactPositionsAndAreCachedPerLength() {
        try (CpuBackend backend = new CpuBackend(1); RopeTables tables = new RopeTables(backend, 8, 1e4, 32)) {
            RopeTable table = tables.forLength(40);
            assertSame(table, tables.forLength(40));
            float[] inverse = RopeTables.inverseFrequencies(8, 1e4, 32, 40, false);
            float[] cos = backend.tensors().download(table.cos());
            float[] sin = backend.tensors().download(table.sin());
            assertEquals(40 * 4, cos.length);
            for (int t : new int[] {0, 1, 17, 39}) {
                for (int i = 0; i < 4; i++) {
                    assertEquals(Math.cos(t * (double) inverse[i]), cos[t * 4 + i], 1e-6);
                    assertEquals(Math.sin(t * (double) inverse[i]), sin[t * 4 + i], 1e-6);
                }
            }
        }
    }

    @Test
    void bf16RoundingIsToNearestEven() {
        assertEquals(1.0f, RopeTables.roundToBf16(1.0f + 0x1p-8f), "a tie rounds to the even neighbour");
        assertEquals(1.0f + 0x1p-6f, RopeTables.roundToBf16(1.0f + 0x1p-7f + 0x1p-8f), "tie up to even");
        assertEquals(-0.31640625f, RopeTables.roundToBf16(-0.3162278f));
    }
}
