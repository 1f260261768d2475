package io.pgolf.model.eval;

import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.protocol.Tokens;
import io.pgolf.testing.SharedFiles;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PlainEvaluationTest {
    private static final int VOCAB = 1024;

    private static ByteTables tables() throws Exception {
        return ByteTables.of(SentencePieceModel.load(SharedFiles.tokenizer(VOCAB)), VOCAB);
    }

    private static Tokens randomTokens(int length, long seed) {
        Random random = new Random(seed);
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = random.nextInt(VOCAB);
        }
        return Tokens.of(ids);
    }

    @Test
    void scoresEveryTargetOnceWithTheTokenBeforeItAsContext() throws Exception {
        int seqLen = 8;
        Tokens tokens = randomTokens(5 * seqLen + 1, 1);
        ByteTables tables = tables();
        List<int[]> seenInputs = new ArrayList<>();
        List<Integer> batchSizes = new ArrayList<>();
        // Each target's "loss" is its own position in the stream, so the sum proves every target was scored once.
        float[] position = new float[1];
        TokenScorer scorer = (inputs, targets, batch, len) -> {
            seenInputs.add(inputs);
            batchSizes.add(batch);
            float[] losses = new float[inputs.length];
            for (int i = 0; i < losses.length; i++) {
                losses[i] = ++position[0];
            }
            return losses;
        };
        BitsPerByte.Totals totals = new PlainEvaluation(tokens, seqLen, 2, tables).run(scorer);

        int n = 5 * seqLen;
        assertEquals(List.of(2, 2, 1), batchSizes);
        assertEquals(n, totals.tokens());
        assertEquals(n * (n + 1) / 2.0, totals.nats(), 0.0);
        long bytes = 0;
        for (int i = 1; i <= n; i++) {
            bytes += tables.tokenBytes(tokens.get(i), tokens.get(i - 1));
        }
        assertEquals(bytes, totals.bytes());
        int[] firstInputs = new int[2 * seqLen];
        for (int i = 0; i < firstInputs.length; i++) {
            firstInputs[i] = tokens.get(i);
        }
        assertArrayEquals(firstInputs, seenInputs.getFirst());
    }

    @Test
    void refusesTokensThatAreNotWholeWindowsPlusOne() throws Exception {
        ByteTables tables = tables();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PlainEvaluation(randomTokens(18, 2), 8, 4, tables));
        assertEquals("validation tokens must be a positive multiple of seqLen 8 plus one, got 18", e.getMessage());
    }
}
