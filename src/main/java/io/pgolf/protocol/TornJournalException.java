package io.pgolf.protocol;

import java.io.IOException;
import java.nio.file.Path;

/** Refusal to append to a journal that ends in a torn record, unless the caller asked for it to be cut off. */
public final class TornJournalException extends IOException {
    private final TornTail tornTail;

    public TornJournalException(Path file, TornTail tornTail) {
        super(file + ": " + tornTail.describe() + "; reopen with MessageJournal.openForAppendTruncatingTornTail"
                + " to drop it and append after the last whole record");
        this.tornTail = tornTail;
    }

    public TornTail tornTail() {
        return tornTail;
    }
}
