package io.pgolf.data.loader;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** SeedSequence and PCG64 against numpy's own outputs (fixture pcg64.json). */
class Pcg64Test {
    private static final JsonNode FIXTURE = Fixtures.load("pcg64.json");

    @Test
    void seedSequenceStateMatchesNumpy() {
        for (JsonNode c : FIXTURE.get("cases")) {
            long seed = c.get("seed").asLong();
            NumpySeedSequence sequence = new NumpySeedSequence(seed);
            int[] state32 = sequence.generateState32(8);
            for (int i = 0; i < 8; i++) {
                assertEquals(c.get("seedSequenceState32").get(i).asLong(), Integer.toUnsignedLong(state32[i]),
                        "seed " + seed + " word " + i);
            }
            long[] state64 = sequence.generateState64(4);
            for (int i = 0; i < 4; i++) {
                assertEquals(Fixtures.uint64(c.get("seedSequenceState64").get(i)), state64[i], "seed " + seed + " word " + i);
            }
        }
    }

    @Test
    void seededStateAndRawOutputsMatchNumpy() {
        for (JsonNode c : FIXTURE.get("cases")) {
            long seed = c.get("seed").asLong();
            Pcg64 bits = new Pcg64(seed);
            assertArrayEquals(new long[] {Fixtures.uint64(c.get("lcgState").get(0)), Fixtures.uint64(c.get("lcgState").get(1))},
                    bits.lcgState(), "state of seed " + seed);
            assertArrayEquals(new long[] {Fixtures.uint64(c.get("lcgIncrement").get(0)),
                    Fixtures.uint64(c.get("lcgIncrement").get(1))}, bits.lcgIncrement(), "increment of seed " + seed);
            JsonNode raw = c.get("raw");
            for (int i = 0; i < raw.size(); i++) {
                assertEquals(Fixtures.uint64(raw.get(i)), bits.nextLong(), "seed " + seed + " output " + i);
            }
        }
    }

    @Test
    void thirtyTwoBitDrawsSplitOneOutputLowHalfFirst() {
        JsonNode raw = FIXTURE.get("cases").get(0).get("raw");
        Pcg64 bits = new Pcg64(0);
        long first = Fixtures.uint64(raw.get(0));
        assertEquals((int) first, bits.nextInt());
        assertEquals((int) (first >>> 32), bits.nextInt());
        assertEquals(Fixtures.uint64(raw.get(1)), bits.nextLong());
        assertEquals((double) (Fixtures.uint64(raw.get(2)) >>> 11) / (1L << 53), bits.nextDouble());
    }

    @Test
    void negativeSeedIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new NumpySeedSequence(-1));
    }
}
