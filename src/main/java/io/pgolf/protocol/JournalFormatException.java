package io.pgolf.protocol;

import java.io.IOException;
import java.nio.file.Path;

/** A file that is not a message journal this build can read: wrong magic, another format version, no whole header. */
public final class JournalFormatException extends IOException {
    private final Path file;

    public JournalFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
