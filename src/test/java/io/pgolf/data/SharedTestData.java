package io.pgolf.data;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared development files (system property {@code pgolf.shared}, set by Maven). */
public final class SharedTestData {
    private SharedTestData() {
    }

    /** A path under the shared folder, which must exist: tests that need it fail rather than skip. */
    public static Path file(String relative) {
        String root = System.getProperty("pgolf.shared");
        assertTrue(root != null, "system property pgolf.shared is not set (Maven sets it to ../shared)");
        Path path = Path.of(root).resolve(relative);
        assertTrue(Files.exists(path), "missing shared file " + path);
        return path;
    }

    public static Path tokenizer(int vocab) {
        return file("data/tokenizers/fineweb_" + vocab + "_bpe.model");
    }
}
