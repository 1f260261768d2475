package io.pgolf.data.bytes;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgolf.testing.SharedFiles;
import io.pgolf.data.tokenizer.SentencePieceModel;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Worked examples with the sp1024 tokenizer: "Hello world" is H|el|lo|▁w|or|ld. */
class BitsPerByteTest {
    private static final double LN_2 = Math.log(2);
    private static SentencePieceModel model;
    private static ByteTables tables;

    @BeforeAll
    static void load() {
        model = SentencePieceModel.load(SharedFiles.tokenizer(1024));
        tables = ByteTables.of(model, 1024);
    }

    @Test
    void helloWorldCountsElevenBytes() {
        int[] ids = model.encode("Hello world");
        assertArrayEquals(new String[] {"H", "el", "lo", "▁w", "or", "ld"},
                Arrays.stream(ids).mapToObj(model::idToPiece).toArray(String[]::new));
        // Every token scored at 1 bit: 6 bits over the 11 bytes of "Hello world".
        BitsPerByte bpb = new BitsPerByte(tables);
        int previous = model.bosId();
        for (int id : ids) {
            bpb.add(LN_2, id, previous);
            previous = id;
        }
        BitsPerByte.Totals totals = bpb.totals();
        assertEquals(6, totals.tokens());
        assertEquals(11, totals.bytes());
        assertEquals(LN_2, totals.meanLoss(), 1e-15);
        assertEquals(6.0 / 11.0, totals.bitsPerByte(), 1e-15);
    }

    @Test
    void leadingSpaceCountsOnlyAfterANonBoundaryToken() {
        int w = model.encode("Hello world")[3]; // ▁w: 1 base byte + its space
        int lo = model.encode("Hello world")[2];
        assertEquals(2, tables.tokenBytes(w, lo));
        assertEquals(1, tables.tokenBytes(w, model.bosId()));
        assertEquals(1, tables.tokenBytes(w, model.unkId()));
        assertEquals(1, tables.tokenBytes(model.encode("\u00e9")[0], lo)); // byte piece <0xC3>
        assertEquals(0, tables.tokenBytes(model.eosId(), lo));
    }

    @Test
    void mergedShardsEqualOnePass() {
        int[] ids = model.encode("Sharded evaluation sums the same nats and bytes as one pass.");
        int[] previous = new int[ids.length];
        float[] nats = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            previous[i] = i == 0 ? model.bosId() : ids[i - 1];
            nats[i] = 0.5f + 0.25f * (i % 4); // exact in float and double
        }
        BitsPerByte whole = new BitsPerByte(tables);
        whole.add(nats, ids, previous, 0, ids.length);
        int half = ids.length / 2;
        BitsPerByte first = new BitsPerByte(tables);
        first.add(nats, ids, previous, 0, half);
        BitsPerByte second = new BitsPerByte(tables);
        second.add(nats, ids, previous, half, ids.length - half);
        first.merge(second.totals());
        assertEquals(whole.totals(), first.totals());
        assertEquals("Sharded evaluation sums the same nats and bytes as one pass.".length(), whole.totals().bytes());
    }
}
