package io.pgolf.config;

/** Legal score-first test-time training: {@code pgolf.ttt}. */
public record TttConfig(boolean tttEnabled, double tttLr, double tttMomentum, int tttEpochs, int tttChunkTokens,
                        int tttFreezeBlocks, double tttGradClip, int tttBatchSeqs) {

    static TttConfig read(KnobReader r) {
        return new TttConfig(r.flag("ttt.ttt-enabled"), r.real("ttt.ttt-lr"), r.real("ttt.ttt-momentum"),
                r.integer("ttt.ttt-epochs"), r.integer("ttt.ttt-chunk-tokens"), r.integer("ttt.ttt-freeze-blocks"),
                r.real("ttt.ttt-grad-clip"), r.integer("ttt.ttt-batch-seqs"));
    }
}
