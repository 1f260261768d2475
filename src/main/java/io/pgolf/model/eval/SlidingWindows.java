package io.pgolf.model.eval;

import java.util.List;
import java.util.stream.IntStream;

/**
 * Where the sliding-window evaluation (the reference's eval_val_sliding) puts its windows over {@code targets}
 * scored positions (the validation tokens less one): a window of up to seqLen inputs starts every {@code stride}
 * positions while {@code start + (seqLen - stride) < targets}. The first window scores all its positions, every
 * other one only the positions after its {@code seqLen - stride} tokens of context, so each target is scored
 * exactly once, with at least that much context once the first window is done.
 */
public record SlidingWindows(int targets, int seqLen, int stride) {
    public SlidingWindows {
        if (seqLen <= 0 || stride <= 0 || stride > seqLen) {
            throw new IllegalArgumentException("need 0 < stride <= seqLen, got stride " + stride + ", seqLen " + seqLen);
        }
        if (targets <= seqLen - stride) {
            throw new IllegalArgumentException(targets + " targets leave no window: need more than seqLen - stride = "
                    + (seqLen - stride));
        }
    }

    /** Tokens of context before the scored positions of every window but the first. */
    public int contextSize() {
        return seqLen - stride;
    }

    public int count() {
        return Math.ceilDiv(targets - contextSize(), stride);
    }

    /** Every window's start, in order. */
    public List<Integer> starts() {
        return IntStream.range(0, count()).mapToObj(i -> i * stride).toList();
    }

    /** Inputs in the window starting at {@code start}: seqLen, or fewer at the end of the tokens. */
    public int length(int start) {
        requireStart(start);
        return Math.min(start + seqLen, targets) - start;
    }

    /** Offset in the window of its first scored position. */
    public int firstScored(int start) {
        requireStart(start);
        return start == 0 ? 0 : contextSize();
    }

    /** Positions the window scores: positions firstScored .. length - 1 of it. */
    public int scoredCount(int start) {
        return length(start) - firstScored(start);
    }

    private void requireStart(int start) {
        if (start < 0 || start % stride != 0 || start / stride >= count()) {
            throw new IllegalArgumentException("no window starts at " + start + " (stride " + stride + ", "
                    + count() + " windows)");
        }
    }
}
