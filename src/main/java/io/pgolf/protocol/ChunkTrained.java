package io.pgolf.protocol;

import java.util.Objects;

/**
 * A TTT evaluator trained on {@code chunk}: its optimizer steps read the validation tokens {@code tokensRead}
 * (inputs and targets) over {@code epochs} epochs at {@code learningRate}, taking the weights from version
 * {@code fromVersion} to {@code toVersion}; {@code meanLoss} is the mean of the steps' losses (NaN without steps).
 */
public record ChunkTrained(String evaluationId, int chunk, long fromVersion, long toVersion, TokenSpan tokensRead,
                           int epochs, int optimizerSteps, double learningRate, double meanLoss) implements TttEvent {
    public ChunkTrained {
        Objects.requireNonNull(evaluationId, "evaluationId");
        Objects.requireNonNull(tokensRead, "tokensRead");
        if (chunk < 0 || fromVersion < 0 || toVersion < 0 || epochs < 0 || optimizerSteps < 0) {
            throw new IllegalArgumentException("chunk, versions, epochs and steps must not be negative, got " + chunk
                    + ", " + fromVersion + ", " + toVersion + ", " + epochs + ", " + optimizerSteps);
        }
    }
}
