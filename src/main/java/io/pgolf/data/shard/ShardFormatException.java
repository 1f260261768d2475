package io.pgolf.data.shard;

import java.io.IOException;
import java.nio.file.Path;

/** A file that is not a valid shard; the message names the file and what was expected versus found. */
public final class ShardFormatException extends IOException {
    private final Path file;

    public ShardFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
