package io.pgolf.data.artifact;

import io.pgolf.model.quant.QuantizedModel;
import io.pgolf.model.quant.QuantizedTensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantizedModelBytesTest {

    static void assertSameModel(QuantizedModel expected, QuantizedModel actual) {
        assertEquals(expected.tensors().size(), actual.tensors().size());
        for (int i = 0; i < expected.tensors().size(); i++) {
            QuantizedTensor e = expected.tensors().get(i);
            QuantizedTensor a = actual.tensors().get(i);
            assertEquals(e.name(), a.name());
            assertArrayEquals(e.shape(), a.shape(), e.name());
            switch (e) {
                case QuantizedTensor.Codes c -> {
                    QuantizedTensor.Codes d = (QuantizedTensor.Codes) a;
                    assertEquals(c.bits(), d.bits(), e.name());
                    assertArrayEquals(c.codes(), d.codes(), e.name());
                    assertArrayEquals(c.scales(), d.scales(), e.name());
                }
                case QuantizedTensor.Float16 f -> assertArrayEquals(f.values(), ((QuantizedTensor.Float16) a).values(), e.name());
            }
        }
    }

    @Test
    void decodeInvertsEncode() {
        QuantizedModel model = SampleModels.mixed(1);
        assertSameModel(model, QuantizedModelBytes.decode(QuantizedModelBytes.encode(model)));
        QuantizedModel empty = new QuantizedModel(List.of());
        assertSameModel(empty, QuantizedModelBytes.decode(QuantizedModelBytes.encode(empty)));
    }

    /** Codes are one byte each and every float16 array starts at an even offset, so the shuffle splits its bytes. */
    @Test
    void storesCodesAsBytesAndFloat16AtEvenOffsets() {
        QuantizedTensor.Codes codes = SampleModels.codes(new Random(2), "w", 3, 5, 6);
        byte[] bytes = QuantizedModelBytes.encode(new QuantizedModel(List.of(codes)));
        int table = 4 + 1 + 2 + 1 + 1 + 2 * 4 + 1;
        assertEquals(table + 15 + 1 + 2 * 3, bytes.length);
        assertArrayEquals(codes.codes(), Arrays.copyOfRange(bytes, table, table + 15));
        int scales = table + 15 + 1;
        assertEquals(0, scales % 2);
        assertEquals(codes.scales()[0], (short) ((bytes[scales] & 0xFF) | bytes[scales + 1] << 8));
    }

    @Test
    void refusesBytesThatDoNotFollowTheLayoutNamingTheOffset() {
        byte[] bytes = QuantizedModelBytes.encode(SampleModels.mixed(3));
        IllegalArgumentException cut = assertThrows(IllegalArgumentException.class,
                () -> QuantizedModelBytes.decode(Arrays.copyOf(bytes, bytes.length - 1)));
        assertTrue(cut.getMessage().contains("offset") && cut.getMessage().contains("skip_weights"), cut.getMessage());
        IllegalArgumentException trailing = assertThrows(IllegalArgumentException.class,
                () -> QuantizedModelBytes.decode(Arrays.copyOf(bytes, bytes.length + 2)));
        assertTrue(trailing.getMessage().contains("2 bytes follow the last tensor"), trailing.getMessage());

        QuantizedTensor.Codes codes = SampleModels.codes(new Random(4), "w", 2, 2, 6);
        byte[] one = QuantizedModelBytes.encode(new QuantizedModel(List.of(codes)));
        int firstCode = 4 + 1 + 2 + 1 + 1 + 2 * 4 + 1;
        one[firstCode + 1] = 32;
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class, () -> QuantizedModelBytes.decode(one));
        assertTrue(range.getMessage().contains("offset " + firstCode + ": w: code 32 at 1 is outside +-31"),
                range.getMessage());
    }
}
