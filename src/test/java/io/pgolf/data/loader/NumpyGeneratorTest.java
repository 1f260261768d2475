package io.pgolf.data.loader;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Generator methods replayed in numpy's interleaving (fixture generator.json), final bit-generator state included. */
class NumpyGeneratorTest {
    private static final JsonNode FIXTURE = Fixtures.load("generator.json");

    @Test
    void scriptedCallsMatchNumpy() {
        JsonNode script = FIXTURE.get("script");
        for (JsonNode c : FIXTURE.get("cases")) {
            long seed = c.get("seed").asLong();
            NumpyGenerator rng = NumpyGenerator.seeded(seed);
            for (int step = 0; step < script.size(); step++) {
                JsonNode op = script.get(step);
                JsonNode expected = c.get("results").get(step);
                String where = "seed " + seed + " step " + step + " " + op;
                switch (op.get(0).asText()) {
                    case "integers" -> assertEquals(expected.asLong(), rng.integers(Long.parseLong(op.get(1).asText())), where);
                    case "random" -> assertEquals(expected.asDouble(), rng.random(), where);
                    case "permutation" -> assertArrayEquals(Fixtures.ints(expected), rng.permutation(op.get(1).asInt()), where);
                    case "choice" -> assertEquals(expected.asInt(), rng.choice(Fixtures.doubles(op.get(1))), where);
                    default -> throw new IllegalStateException("unknown fixture operation " + op);
                }
            }
            Pcg64 bits = rng.bits();
            assertArrayEquals(new long[] {Fixtures.uint64(c.get("finalLcgState").get(0)),
                    Fixtures.uint64(c.get("finalLcgState").get(1))}, bits.lcgState(), "final state, seed " + seed);
            assertEquals(c.get("finalHasUint32").asInt() == 1, bits.hasBufferedUint32(), "buffered word flag, seed " + seed);
            assertEquals(c.get("finalUinteger").asLong(), Integer.toUnsignedLong(bits.bufferedUint32()), "buffered word, seed " + seed);
        }
    }

    @Test
    void invalidArgumentsAreRejectedAsNumpyDoes() {
        NumpyGenerator rng = NumpyGenerator.seeded(0);
        assertThrows(IllegalArgumentException.class, () -> rng.integers(0));
        assertThrows(IllegalArgumentException.class, () -> rng.choice(new double[0]));
        assertThrows(IllegalArgumentException.class, () -> rng.choice(new double[] {0.5, 0.6}));
        assertThrows(IllegalArgumentException.class, () -> rng.choice(new double[] {1.5, -0.5}));
        assertThrows(IllegalArgumentException.class, () -> rng.choice(new double[] {Double.NaN, 1}));
    }
}
