package io.pgolf.testing;

import org.tukaani.xz.XZInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Locates the project's shared development files (../shared) for tests; Maven passes the path as pgolf.shared. */
public final class SharedFiles {
    private SharedFiles() {
    }

    public static Path root() {
        Path root = Path.of(System.getProperty("pgolf.shared", "../shared"));
        if (!Files.isDirectory(root.resolve("data"))) {
            throw new IllegalStateException("shared development files not found at " + root.toAbsolutePath()
                    + " (set -Dpgolf.shared=...)");
        }
        return root;
    }

    /** A path under the shared folder, which must exist: tests that need it fail rather than skip. */
    public static Path file(String relative) {
        Path path = root().resolve(relative);
        if (!Files.exists(path)) {
            throw new IllegalStateException("missing shared file " + path.toAbsolutePath());
        }
        return path;
    }

    public static Path corpus() {
        return root().resolve("corpus/docs.jsonl.xz");
    }

    public static Path tokenizer(int vocab) {
        return root().resolve("data/tokenizers/fineweb_" + vocab + "_bpe.model");
    }

    public static Path manifest() {
        return root().resolve("data/manifest.json");
    }

    public static Path fixtures() {
        return root().resolve("fixtures/reference_tiny.safetensors");
    }

    /** Decompresses {@code xzFile} into {@code dir} (named without the .xz) and returns the new file. */
    public static Path unxz(Path xzFile, Path dir) throws IOException {
        String name = xzFile.getFileName().toString();
        Path out = dir.resolve(name.substring(0, name.length() - ".xz".length()));
        try (InputStream in = new XZInputStream(Files.newInputStream(xzFile))) {
            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
        }
        return out;
    }
}
