package io.pgolf.data.bytes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgolf.data.SafeTensors;
import io.pgolf.testing.SharedFiles;
import io.pgolf.data.tokenizer.SentencePieceModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ByteTablesTest {
    /** The tables equal the reference's build_sentencepiece_luts output stored in the fixtures. */
    @ParameterizedTest(name = "sp{0}")
    @ValueSource(ints = {1024, 8192})
    void tablesEqualTheReferenceFixtures(int vocab) {
        ByteTables tables = ByteTables.of(SentencePieceModel.load(SharedFiles.tokenizer(vocab)), vocab);
        try (SafeTensors fixture = SafeTensors.open(SharedFiles.file("fixtures/reference_tiny.safetensors"))) {
            String prefix = "lut" + vocab + ".";
            int[] baseBytes = fixture.ints(prefix + "base_bytes");
            int[] leadingSpace = fixture.ints(prefix + "has_leading_space");
            int[] boundary = fixture.ints(prefix + "is_boundary");
            assertEquals(baseBytes.length, tables.size());
            short[] ours = tables.baseBytesTable();
            boolean[] ourLeadingSpace = tables.hasLeadingSpaceTable();
            boolean[] ourBoundary = tables.isBoundaryTable();
            for (int id = 0; id < vocab; id++) {
                assertEquals(baseBytes[id], ours[id], "base_bytes of id " + id);
                assertEquals(leadingSpace[id] != 0, ourLeadingSpace[id], "has_leading_space of id " + id);
                assertEquals(boundary[id] != 0, ourBoundary[id], "is_boundary of id " + id);
            }
        }
    }

    @ParameterizedTest(name = "model vocabulary {0}")
    @ValueSource(ints = {1000, 1024, 1100})
    void tableCoversTheLargerOfBothVocabularies(int modelVocab) {
        ByteTables tables = ByteTables.of(SentencePieceModel.load(SharedFiles.tokenizer(1024)), modelVocab);
        assertEquals(Math.max(1024, modelVocab), tables.size());
        for (int id = 1024; id < tables.size(); id++) {
            assertEquals(0, tables.baseBytes(id));
            assertTrue(tables.isBoundary(id));
        }
    }

    @Test
    void oneBytePerTokenCountsEachTargetAsOneByte() {
        ByteTables tables = ByteTables.oneBytePerToken(50);
        assertEquals(50, tables.size());
        for (int id = 0; id < 50; id++) {
            assertEquals(1, tables.tokenBytes(id, (id + 7) % 50), "bytes of id " + id);
            assertFalse(tables.isBoundary(id));
        }
    }
}
