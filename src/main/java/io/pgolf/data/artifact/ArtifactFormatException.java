package io.pgolf.data.artifact;

import java.io.IOException;
import java.nio.file.Path;

/** A file that is not a readable artifact of this format version; the message names the file and the problem. */
public final class ArtifactFormatException extends IOException {
    private final Path file;

    public ArtifactFormatException(Path file, String problem) {
        super(file + ": not a readable pgolf artifact: " + problem);
        this.file = file;
    }

    public ArtifactFormatException(Path file, String problem, Throwable cause) {
        super(file + ": not a readable pgolf artifact: " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
