package io.pgolf.protocol;

import java.nio.file.Path;

/**
 * A journal record that was written whole but now reads wrong (CRC mismatch, impossible length, undecodable payload,
 * out-of-order seq). Readers stop here: they never skip a record, since what follows it cannot be trusted either.
 */
public final class JournalCorruptException extends RuntimeException {
    private final Path file;
    private final long offset;
    private final long recordIndex;

    public JournalCorruptException(Path file, long offset, long recordIndex, String problem, Throwable cause) {
        super(file + ": record " + recordIndex + " at byte offset " + offset + " is corrupt: " + problem, cause);
        this.file = file;
        this.offset = offset;
        this.recordIndex = recordIndex;
    }

    public Path file() {
        return file;
    }

    /** Where the bad record's header starts in the file. */
    public long offset() {
        return offset;
    }

    /** The bad record's 0-based position among the file's records. */
    public long recordIndex() {
        return recordIndex;
    }
}
