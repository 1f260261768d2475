package io.pgolf.model.eval;

import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.protocol.Tokens;

import java.util.List;

/**
 * Scores sliding windows in batches, as the reference does: each batch is [windows, seqLen], a short window padded
 * with token 0 after its end. The model is causal, so padding after a window cannot change the losses of the
 * window's own positions (the same as running it at its own length), and padded positions are never added.
 */
final class WindowScoring {
    private WindowScoring() {
    }

    /** Adds the scored positions of the windows starting at {@code starts} to {@code sums}, in order. */
    static void score(Tokens tokens, SlidingWindows windows, List<Integer> starts, int batchSeqs, TokenScorer scorer,
                      BitsPerByte sums) {
        int seqLen = windows.seqLen();
        for (int first = 0; first < starts.size(); first += batchSeqs) {
            List<Integer> batch = starts.subList(first, Math.min(first + batchSeqs, starts.size()));
            int[] inputs = new int[batch.size() * seqLen];
            int[] targets = new int[batch.size() * seqLen];
            for (int row = 0; row < batch.size(); row++) {
                int start = batch.get(row);
                for (int t = 0; t < windows.length(start); t++) {
                    inputs[row * seqLen + t] = tokens.get(start + t);
                    targets[row * seqLen + t] = tokens.get(start + t + 1);
                }
            }
            float[] losses = scorer.tokenLosses(inputs, targets, batch.size(), seqLen);
            if (losses.length != inputs.length) {
                throw new IllegalStateException("scorer returned " + losses.length + " losses for " + inputs.length
                        + " positions");
            }
            for (int row = 0; row < batch.size(); row++) {
                int start = batch.get(row);
                sums.add(losses, targets, inputs, row * seqLen + windows.firstScored(start), windows.scoredCount(start));
            }
        }
    }
}
