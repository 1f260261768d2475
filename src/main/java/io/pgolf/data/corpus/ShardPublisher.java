package io.pgolf.data.corpus;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Makes a prepare run all-or-nothing for its output folder: shards are written into a hidden staging folder
 * inside it, and only a finished run moves them into place (replacing the shards of an earlier run) and writes
 * {@code manifest.json}. A failed run leaves the folder as it found it.
 */
public final class ShardPublisher implements AutoCloseable {
    private final Path outDir;
    private final Path staging;
    private boolean published;

    public ShardPublisher(Path outDir) {
        this.outDir = outDir;
        try {
            Files.createDirectories(outDir);
            this.staging = Files.createTempDirectory(outDir, ".prepare-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create output folder " + outDir, e);
        }
    }

    public Path stagingDir() {
        return staging;
    }

    /** Moves the staged shards into the output folder, removes stale shards and writes the manifest. */
    public Path publish(List<ShardedExport.WrittenShard> shards, Map<String, Object> description) {
        try {
            Map<String, String> sha = new LinkedHashMap<>();
            Set<String> names = new TreeSet<>();
            for (ShardedExport.WrittenShard s : shards) {
                String name = s.file().getFileName().toString();
                sha.put(name, sha256(s.file()));
                names.add(name);
            }
            for (ShardedExport.WrittenShard s : shards) {
                Files.move(s.file(), outDir.resolve(s.file().getFileName()),
                        StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            try (DirectoryStream<Path> old = Files.newDirectoryStream(outDir, "fineweb_{train,val}_*.bin")) {
                for (Path p : old) {
                    if (!names.contains(p.getFileName().toString())) {
                        Files.delete(p);
                    }
                }
            }
            Map<String, Object> manifest = new LinkedHashMap<>(description);
            manifest.put("files", sha);
            Path manifestFile = outDir.resolve("manifest.json");
            Path tmp = staging.resolve("manifest.json");
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), manifest);
            Files.move(tmp, manifestFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            published = true;
            return manifestFile;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot publish shards into " + outDir, e);
        }
    }

    /** Removes the staging folder, and with it every shard of a run that did not publish. */
    @Override
    public void close() {
        try (Stream<Path> files = Files.walk(staging)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove staging folder " + staging + (published ? "" : " of a failed run"), e);
        }
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                digest.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
