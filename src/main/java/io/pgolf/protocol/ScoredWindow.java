package io.pgolf.protocol;

/**
 * One window of a score receipt, in validation token indices: the model read tokens {@code [inputFrom, inputTo)}
 * and the window's score counts tokens {@code [scoredFrom, scoredTo)}. The prediction of token {@code k} comes from
 * input position {@code k - 1}; with causal attention its context is {@code [inputFrom, k)}, otherwise every input.
 *
 * <p>Only the spans' shapes are checked here. Whether the context lies before each scored token is for the audit to
 * judge, so a journal that breaks that rule still decodes and gets its verdict.
 */
public record ScoredWindow(int inputFrom, int inputTo, int scoredFrom, int scoredTo) {
    public ScoredWindow {
        if (inputFrom < 0 || inputTo < inputFrom || scoredFrom < 0 || scoredTo < scoredFrom) {
            throw new IllegalArgumentException("a scored window needs 0 <= inputFrom <= inputTo and"
                    + " 0 <= scoredFrom <= scoredTo, got inputs [" + inputFrom + ", " + inputTo + "), scored ["
                    + scoredFrom + ", " + scoredTo + ")");
        }
    }

    public int scoredCount() {
        return scoredTo - scoredFrom;
    }
}
