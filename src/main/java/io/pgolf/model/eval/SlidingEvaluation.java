package io.pgolf.model.eval;

import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.protocol.Tokens;

/**
 * The sliding-window evaluation of STACK §6 (the reference's eval_val_sliding): windows as {@link SlidingWindows}
 * over the validation tokens, scored in batches of {@code batchSeqs} windows; a target's bytes count against the
 * window's input token at its position. With several ranks, each would score a contiguous share of the windows
 * ({@code [count * r / W, count * (r + 1) / W)}) and the partial totals would be summed.
 */
public final class SlidingEvaluation {
    private final Tokens tokens;
    private final SlidingWindows windows;
    private final int batchSeqs;
    private final ByteTables tables;

    public SlidingEvaluation(Tokens tokens, int seqLen, int stride, int batchSeqs, ByteTables tables) {
        if (batchSeqs <= 0) {
            throw new IllegalArgumentException("batchSeqs must be positive, got " + batchSeqs);
        }
        this.tokens = tokens;
        this.windows = new SlidingWindows(tokens.length() - 1, seqLen, stride);
        this.batchSeqs = batchSeqs;
        this.tables = tables;
    }

    public SlidingWindows windows() {
        return windows;
    }

    /** Scores every window; the scorer sees batches of at most batchSeqs windows, in order. */
    public BitsPerByte.Totals run(TokenScorer scorer) {
        BitsPerByte sums = new BitsPerByte(tables);
        WindowScoring.score(tokens, windows, windows.starts(), batchSeqs, scorer, sums);
        return sums.totals();
    }
}
