package io.pgolf.model.eval;

import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.protocol.Tokens;

/**
 * The plain evaluation of STACK §6: the validation tokens (cut to a multiple of seqLen, plus one) in
 * non-overlapping windows of seqLen; every target is scored once, given the window's tokens before it.
 */
public final class PlainEvaluation {
    private final Tokens tokens;
    private final int seqLen;
    private final int batchSeqs;
    private final ByteTables tables;

    /**
     * @param tokens    validation tokens, a multiple of seqLen plus one ({@code Shards.validationTokens})
     * @param batchSeqs windows scored per call of the scorer
     */
    public PlainEvaluation(Tokens tokens, int seqLen, int batchSeqs, ByteTables tables) {
        if (seqLen <= 0 || batchSeqs <= 0) {
            throw new IllegalArgumentException("seqLen and batchSeqs must be positive, got " + seqLen + ", " + batchSeqs);
        }
        if (tokens.length() < seqLen + 1 || (tokens.length() - 1) % seqLen != 0) {
            throw new IllegalArgumentException("validation tokens must be a positive multiple of seqLen " + seqLen
                    + " plus one, got " + tokens.length());
        }
        this.tokens = tokens;
        this.seqLen = seqLen;
        this.batchSeqs = batchSeqs;
        this.tables = tables;
    }

    public int windows() {
        return (tokens.length() - 1) / seqLen;
    }

    /** Scores every window; the scorer sees batches of at most batchSeqs windows, in order. */
    public BitsPerByte.Totals run(TokenScorer scorer) {
        BitsPerByte sums = new BitsPerByte(tables);
        int windows = windows();
        for (int first = 0; first < windows; first += batchSeqs) {
            int batch = Math.min(batchSeqs, windows - first);
            int n = batch * seqLen;
            int[] inputs = new int[n];
            int[] targets = new int[n];
            int start = first * seqLen;
            for (int i = 0; i < n; i++) {
                inputs[i] = tokens.get(start + i);
                targets[i] = tokens.get(start + i + 1);
            }
            float[] losses = scorer.tokenLosses(inputs, targets, batch, seqLen);
            if (losses.length != n) {
                throw new IllegalStateException("scorer returned " + losses.length + " losses for " + n + " targets");
            }
            sums.add(losses, targets, inputs, 0, n);
        }
        return sums.totals();
    }
}
