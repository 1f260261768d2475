package io.pgolf.data.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgolf.testing.SharedFiles;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.tukaani.xz.XZInputStream;

/**
 * The shared corpus and the ids the challenge's exporter wrote for it: each document became [BOS] + ids
 * in shards (256 int32 LE header: magic, version, token count; then uint16 LE tokens), val shards first.
 */
final class CorpusOracle {
    private static final int MAGIC = 20240520;
    private static final int HEADER_INTS = 256;
    private static final int BOS = 1;

    private CorpusOracle() {
    }

    /** Every document's text, in corpus order, decoded as Python's json.loads does. */
    static List<String> documents() throws IOException {
        return documents(Integer.MAX_VALUE);
    }

    /** The first {@code limit} documents. */
    static List<String> documents(int limit) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> docs = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(
                xz(SharedFiles.file("corpus/docs.jsonl.xz")), StandardCharsets.UTF_8))) {
            String line;
            while (docs.size() < limit && (line = reader.readLine()) != null) {
                JsonNode node = json.readTree(line);
                docs.add(node.get("text").asText());
            }
        }
        return docs;
    }

    /** The exporter's ids of every document of a vocabulary (BOS removed), in corpus order. */
    static List<int[]> expectedIds(int vocab) throws IOException {
        Path dir = SharedFiles.file("data/datasets/fineweb10B_sp" + vocab);
        List<Path> shards;
        try (Stream<Path> files = Files.list(dir)) {
            // "fineweb_train_*" sorts before "fineweb_val_*", but the exporter wrote the val docs first.
            shards = files.filter(p -> p.getFileName().toString().endsWith(".bin.xz"))
                    .sorted((a, b) -> shardOrder(a).compareTo(shardOrder(b))).toList();
        }
        List<int[]> docs = new ArrayList<>();
        int[] current = null;
        int size = 0;
        for (Path shard : shards) {
            for (char token : readShard(shard)) {
                if (token == BOS) {
                    if (current != null) {
                        docs.add(Arrays.copyOf(current, size));
                    }
                    current = new int[1024];
                    size = 0;
                } else {
                    if (current == null) {
                        throw new IOException(shard + ": token stream does not start with BOS");
                    }
                    if (size == current.length) {
                        current = Arrays.copyOf(current, size * 2);
                    }
                    current[size++] = token;
                }
            }
        }
        if (current != null) {
            docs.add(Arrays.copyOf(current, size));
        }
        return docs;
    }

    private static String shardOrder(Path shard) {
        String name = shard.getFileName().toString();
        return (name.contains("_val_") ? "0" : "1") + name;
    }

    private static char[] readShard(Path shard) throws IOException {
        try (DataInputStream in = new DataInputStream(xz(shard))) {
            byte[] header = in.readNBytes(HEADER_INTS * 4);
            ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
            if (header.length != HEADER_INTS * 4 || h.getInt(0) != MAGIC || h.getInt(4) != 1) {
                throw new IOException(shard + ": bad shard header");
            }
            int count = h.getInt(8);
            byte[] body = in.readNBytes(count * 2);
            if (body.length != count * 2 || in.read() != -1) {
                throw new IOException(shard + ": expected exactly " + count + " tokens");
            }
            char[] tokens = new char[count];
            ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN).asCharBuffer().get(tokens);
            return tokens;
        }
    }

    private static InputStream xz(Path file) throws IOException {
        return new XZInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16));
    }
}
