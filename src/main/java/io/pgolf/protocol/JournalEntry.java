package io.pgolf.protocol;

import java.util.Objects;

/**
 * One delivery recorded in a {@link MessageJournal}: which message went from which actor to which, in what order
 * ({@code seq}, assigned by the journal) and when ({@code timestampNanos}, wall-clock nanoseconds since the epoch).
 */
public record JournalEntry(long seq, long timestampNanos, String sender, String recipient, PipelineMessage message) {
    public JournalEntry {
        if (seq < 0) {
            throw new IllegalArgumentException("seq must not be negative, got " + seq);
        }
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(recipient, "recipient");
        Objects.requireNonNull(message, "message");
    }
}
