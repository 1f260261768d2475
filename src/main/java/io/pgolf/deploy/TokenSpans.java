package io.pgolf.deploy;

import io.pgolf.protocol.TokenSpan;

import java.util.ArrayList;
import java.util.List;

/**
 * An immutable set of token indices kept as sorted, disjoint, non-adjacent spans: what a version of the weights has
 * trained on. Adding a span returns a new set, so each version keeps its own at the cost of a few spans.
 */
final class TokenSpans {
    static final TokenSpans EMPTY = new TokenSpans(List.of());

    private final List<TokenSpan> spans;

    private TokenSpans(List<TokenSpan> spans) {
        this.spans = spans;
    }

    TokenSpans plus(TokenSpan added) {
        if (added.isEmpty()) {
            return this;
        }
        List<TokenSpan> merged = new ArrayList<>();
        int from = added.from();
        int to = added.to();
        for (TokenSpan span : spans) {
            if (span.to() < from || span.from() > to) {
                merged.add(span);
            } else {
                from = Math.min(from, span.from());
                to = Math.max(to, span.to());
            }
        }
        merged.add(new TokenSpan(from, to));
        merged.sort((a, b) -> Integer.compare(a.from(), b.from()));
        return new TokenSpans(List.copyOf(merged));
    }

    /** The smallest index in both this set and {@code [from, to)}, or -1 if they share none. */
    int firstIn(int from, int to) {
        for (TokenSpan span : spans) {
            int first = Math.max(from, span.from());
            if (first < Math.min(to, span.to())) {
                return first;
            }
        }
        return -1;
    }
}
