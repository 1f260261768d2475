package io.pgolf.data.shard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.XZInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The project's reader against the shared shards built with the challenge's exporter. */
class SharedShardsTest {
    @TempDir
    Path dir;

    @Test
    void sharedShardsOpenAndMatchTheManifest() throws IOException, NoSuchAlgorithmException {
        Path data = Path.of(System.getProperty("pgolf.shared", "../shared")).resolve("data");
        assumeTrue(Files.isDirectory(data), "shared data absent at " + data);
        JsonNode variants = new ObjectMapper().readTree(data.resolve("manifest.json").toFile()).get("variants");
        int checkedVariants = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = variants.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> named = it.next();
            int vocab = Integer.parseInt(named.getKey().substring("sp".length()));
            JsonNode variant = named.getValue();
            long train = 0;
            long val = 0;
            for (Iterator<Map.Entry<String, JsonNode>> files = variant.get("files").fields(); files.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = files.next();
                Path shard = decompress(data.resolve(entry.getKey() + ".xz"));
                assertEquals(entry.getValue().asText(), sha256(shard), entry.getKey());
                try (Shard opened = Shard.open(shard)) {
                    assertEquals(vocab - 1, maxToken(opened), "largest token id in " + entry.getKey());
                    if (entry.getKey().contains("_train_")) {
                        train += opened.count();
                    } else {
                        val += opened.count();
                    }
                }
                Files.delete(shard);
            }
            assertEquals(variant.get("tokens").get("train").asLong(), train);
            assertEquals(variant.get("tokens").get("val").asLong(), val);
            checkedVariants++;
        }
        assertEquals(2, checkedVariants);
    }

    private static int maxToken(Shard shard) {
        char[] tokens = new char[shard.count()];
        shard.copyTo(0, tokens, 0, tokens.length);
        int max = 0;
        for (char token : tokens) {
            max = Math.max(max, token);
        }
        return max;
    }

    private Path decompress(Path xz) throws IOException {
        String name = xz.getFileName().toString();
        Path out = dir.resolve(name.substring(0, name.length() - ".xz".length()));
        try (InputStream in = new XZInputStream(Files.newInputStream(xz))) {
            Files.copy(in, out);
        }
        return out;
    }

    private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        digest.update(Files.readAllBytes(file));
        return HexFormat.of().formatHex(digest.digest());
    }
}
