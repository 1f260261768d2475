package io.pgolf.data.artifact;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Writes an artifact only when it fits the budget, under a temporary name renamed into place once complete. */
public final class ArtifactWriter {
    private ArtifactWriter() {
    }

    /**
     * @throws ArtifactOverBudgetException when model bytes + code bytes exceed the budget; nothing is written
     * @throws UncheckedIOException        when the file cannot be written; the temporary file is removed
     */
    public static void write(Path file, EncodedArtifact artifact, ArtifactBudget budget) {
        budget.requireFits(file, artifact.modelBytes());
        Path absolute = file.toAbsolutePath();
        Path tmp = absolute.resolveSibling("." + absolute.getFileName() + ".tmp");
        try {
            if (absolute.getParent() != null) {
                Files.createDirectories(absolute.getParent());
            }
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer bytes = ByteBuffer.wrap(artifact.bytes());
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
                out.force(true);
            }
            Files.move(tmp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw new UncheckedIOException("cannot write artifact " + file, e);
        }
    }
}
