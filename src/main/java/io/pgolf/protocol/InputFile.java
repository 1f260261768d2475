package io.pgolf.protocol;

import java.util.Objects;

/**
 * A file a run read or wrote, identified by content: its role, where it was ({@code path}, as the run named it),
 * its size and the SHA-256 of its bytes (lower-case hex).
 */
public record InputFile(InputRole role, String path, long bytes, String sha256) {
    public InputFile {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(sha256, "sha256");
        if (bytes < 0) {
            throw new IllegalArgumentException("a file has no negative size, got " + bytes + " for " + path);
        }
    }

    /** The file's name, without its folder. */
    public String name() {
        int slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
        return path.substring(slash + 1);
    }
}
