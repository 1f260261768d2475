package io.pgolf.model.eval;

import io.pgolf.data.bytes.BitsPerByte;

import java.util.List;

/**
 * Proof that a TTT chunk was scored with the weights as they were before any training on it: its partial sums and
 * the windows scored. {@link ScoreFirstTtt#train} takes it, so a chunk cannot be trained on before it is scored.
 */
public record ScoreReceipt(int chunk, BitsPerByte.Totals totals, List<Integer> windowStarts) {
    public ScoreReceipt {
        windowStarts = List.copyOf(windowStarts);
    }
}
