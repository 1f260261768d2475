package io.pgolf.protocol;

import java.util.List;
import java.util.Objects;

/**
 * Pre-quantization TTT (seeds/001) trained the weights on validation tokens before any of them was scored: its
 * steps read {@code tokensRead} over {@code epochs} epochs (AdamW, peak learning rate {@code learningRate}, the
 * first {@code frozenBlocks} blocks frozen), taking the weights from version {@code fromVersion} to
 * {@code toVersion}. {@code epochLosses} holds each epoch's mean loss. This breaks "score before update"; a run
 * that does it is never a record.
 */
public record PrequantTttTrained(long fromVersion, long toVersion, TokenSpan tokensRead, int epochs,
                                 int optimizerSteps, double learningRate, int frozenBlocks, List<Double> epochLosses)
        implements PipelineMessage {
    public PrequantTttTrained {
        Objects.requireNonNull(tokensRead, "tokensRead");
        epochLosses = List.copyOf(epochLosses);
        if (fromVersion < 0 || toVersion < 0 || epochs < 0 || optimizerSteps < 0 || frozenBlocks < 0) {
            throw new IllegalArgumentException("versions, epochs, steps and frozen blocks must not be negative, got "
                    + fromVersion + ", " + toVersion + ", " + epochs + ", " + optimizerSteps + ", " + frozenBlocks);
        }
    }
}
