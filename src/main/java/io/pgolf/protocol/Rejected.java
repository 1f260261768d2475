package io.pgolf.protocol;

import java.util.Objects;

/**
 * A TTT evaluator refused {@code request} (out of order, repeated, for another evaluation, or with a receipt it did
 * not issue) and did nothing; {@code evaluationId} is the refusing evaluator's.
 */
public record Rejected(String evaluationId, TttRequest request, String reason) implements TttEvent {
    public Rejected {
        Objects.requireNonNull(evaluationId, "evaluationId");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(reason, "reason");
    }
}
