package io.pgolf.protocol;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Every whole entry of a journal, in order, and the torn record it ends with if its writer stopped mid-append. */
public record JournalReadResult(Path file, List<JournalEntry> entries, Optional<TornTail> tornTail) {
    public JournalReadResult {
        entries = List.copyOf(entries);
    }

    /** True when the file ends exactly after its last whole record. */
    public boolean complete() {
        return tornTail.isEmpty();
    }
}
