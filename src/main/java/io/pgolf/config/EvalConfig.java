package io.pgolf.config;

/** Validation and sliding-window evaluation: {@code pgolf.eval}. */
public record EvalConfig(int valBatchTokens, int evalSeqLen, int valLossEvery, boolean slidingWindowEnabled,
                         int evalStride, int slidingBatchSeqs) {

    static EvalConfig read(KnobReader r) {
        return new EvalConfig(r.integer("eval.val-batch-tokens"), r.integer("eval.eval-seq-len"),
                r.integer("eval.val-loss-every"), r.flag("eval.sliding-window-enabled"), r.integer("eval.eval-stride"),
                r.integer("eval.sliding-batch-seqs"));
    }
}
