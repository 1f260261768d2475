package io.pgolf.protocol;

/**
 * Validation token indices {@code [from, to)}. Token {@code i} of the validation tokens is what scoring predicts at
 * target position {@code i - 1}, so token 0 is never scored and a scored token always has an index of at least 1.
 */
public record TokenSpan(int from, int to) {
    public TokenSpan {
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("a token span needs 0 <= from <= to, got [" + from + ", " + to + ")");
        }
    }

    public int length() {
        return to - from;
    }

    public boolean isEmpty() {
        return from == to;
    }

    @Override
    public String toString() {
        return "[" + from + ", " + to + ")";
    }
}
