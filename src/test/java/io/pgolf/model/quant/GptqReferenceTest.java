package io.pgolf.model.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgolf.data.SafeTensors;
import io.pgolf.testing.SharedFiles;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * GPTQ against the PyTorch reference's gptq_quantize_weight on fixtures/reference_tiny.safetensors: a 96 x 64 matrix
 * under a Hessian with a dead column (5), at int6 (12.85 sigmas) and int8 (20 sigmas). Codes and float16 scales
 * must be identical.
 */
class GptqReferenceTest {
    private static SafeTensors fixture;

    @BeforeAll
    static void open() {
        fixture = SafeTensors.open(SharedFiles.fixtures());
    }

    @AfterAll
    static void close() {
        fixture.close();
    }

    @ParameterizedTest(name = "int{0}: {1} sigmas")
    @CsvSource({"6, 12.85, gptq.q6, gptq.s6", "8, 20.0, gptq.q8, gptq.s8"})
    void codesAndScalesEqualTheReference(int bits, double clipSigmas, String codesName, String scalesName) {
        long[] shape = fixture.info("gptq.W").shape();
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        Hessian hessian = new Hessian("gptq.H", cols, fixture.floats("gptq.H"));
        assertEquals(0f, hessian.values()[5 * cols + 5], "the fixture's dead column");

        QuantizedTensor.Codes q = Gptq.quantize("gptq.W", fixture.floats("gptq.W"), rows, cols, hessian, clipSigmas, bits);

        assertArrayEquals(float16Bits(fixture.rawBytes(scalesName)), q.scales(), "float16 scales");
        byte[] expected = fixture.rawBytes(codesName);
        int differing = 0;
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != q.codes()[i]) {
                differing++;
            }
        }
        assertEquals(0, differing, "codes differing from the reference (of " + expected.length + ")");
        for (int r = 0; r < rows; r++) {
            assertEquals(0, q.codes()[r * cols + 5], "dead column quantizes to 0 in row " + r);
        }
    }

    private static short[] float16Bits(byte[] raw) {
        short[] out = new short[raw.length / 2];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(out);
        return out;
    }
}
