package io.pgolf.data.loader;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MicroBatchShapeTest {
    @Test
    void recordConfigGives48RowsPerMicroBatchOnAnyWorldSize() {
        for (int worldSize : new int[] {1, 2, 4, 8}) {
            MicroBatchShape shape = MicroBatchShape.of(786_432, worldSize, 2048);
            assertEquals(new MicroBatchShape(worldSize, 8 / worldSize, 48, 2048), shape);
            assertEquals(48 * 2049, shape.windowTokens());
        }
    }

    @Test
    void rowsRoundDownAsTheReferenceDoes() {
        assertEquals(3, MicroBatchShape.of(8 * 3 * 100 + 799, 2, 100).rows());
    }

    @Test
    void worldSizesThatDoNotDivideEightAreRejected() {
        for (int worldSize : new int[] {0, 3, 5, 6, 7, 16}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MicroBatchShape.of(786_432, worldSize, 2048));
            assertEquals("world size must divide 8, got " + worldSize, e.getMessage());
        }
    }

    @Test
    void batchTooSmallForOneWindowIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> MicroBatchShape.of(8 * 2047, 1, 2048));
        assertThrows(IllegalArgumentException.class, () -> MicroBatchShape.of(786_432, 1, 0));
    }
}
