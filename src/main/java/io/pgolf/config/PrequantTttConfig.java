package io.pgolf.config;

/** Pre-quantization TTT on the validation tokens, non-record runs only: {@code pgolf.prequant-ttt}. */
public record PrequantTttConfig(boolean prequantTttEnabled, double prequantTttLr, int prequantTttEpochs,
                                int prequantTttFreezeBlocks) {

    static PrequantTttConfig read(KnobReader r) {
        return new PrequantTttConfig(r.flag("prequant-ttt.prequant-ttt-enabled"),
                r.real("prequant-ttt.prequant-ttt-lr"), r.integer("prequant-ttt.prequant-ttt-epochs"),
                r.integer("prequant-ttt.prequant-ttt-freeze-blocks"));
    }
}
