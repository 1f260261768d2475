package io.pgolf.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.TreeMap;

/**
 * Writes float32 tensors in the safetensors format {@link SafeTensors} reads: an 8-byte little-endian header
 * length, a JSON header (tensors in the order they were added, then {@code __metadata__}), padded with spaces to a
 * multiple of 8 bytes as the reference library does, then the raw little-endian data. The file appears only when
 * complete: it is written under a temporary name beside the target and renamed over it.
 */
public final class SafeTensorsWriter {
    private static final String METADATA_KEY = "__metadata__";
    private static final int CHUNK_FLOATS = 1 << 18;

    private record Entry(long[] shape, float[] values) {
    }

    private final SequencedMap<String, Entry> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    /** Adds a float32 tensor; {@code values} is kept (not copied) until {@link #write}. */
    public SafeTensorsWriter addF32(String name, float[] values, long... shape) {
        if (name.equals(METADATA_KEY)) {
            throw new IllegalArgumentException(METADATA_KEY + " is reserved for metadata, not a tensor name");
        }
        if (tensors.containsKey(name)) {
            throw new IllegalArgumentException("duplicate tensor " + name);
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        if (count != values.length) {
            throw new IllegalArgumentException(name + ": " + values.length + " values do not fill shape "
                    + Arrays.toString(shape));
        }
        tensors.put(name, new Entry(shape.clone(), values));
        return this;
    }

    /** Adds a float32 tensor with an int shape. */
    public SafeTensorsWriter addF32(String name, float[] values, int... shape) {
        return addF32(name, values, Arrays.stream(shape).asLongStream().toArray());
    }

    /** A {@code __metadata__} entry (string to string, as the format requires). */
    public SafeTensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /**
     * Writes the file; on any failure the temporary file is removed and {@code file} is left as it was.
     *
     * @throws UncheckedIOException naming the file
     */
    public void write(Path file) {
        byte[] header = header();
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid()
                + "-" + System.nanoTime());
        try {
            try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
                writeFully(out, length);
                writeFully(out, ByteBuffer.wrap(header));
                ByteBuffer chunk = ByteBuffer.allocate(CHUNK_FLOATS * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                for (Entry entry : tensors.values()) {
                    for (int from = 0; from < entry.values.length; from += CHUNK_FLOATS) {
                        int to = Math.min(entry.values.length, from + CHUNK_FLOATS);
                        chunk.clear();
                        chunk.asFloatBuffer().put(entry.values, from, to - from);
                        chunk.limit((to - from) * Float.BYTES);
                        writeFully(out, chunk);
                    }
                }
                out.force(true);
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(temporary);
            throw new UncheckedIOException("cannot write safetensors file " + file, e);
        } catch (RuntimeException e) {
            deleteQuietly(temporary);
            throw e;
        }
    }

    private byte[] header() {
        Map<String, Object> root = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            long bytes = (long) e.getValue().values.length * Float.BYTES;
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", "F32");
            info.put("shape", e.getValue().shape);
            info.put("data_offsets", List.of(offset, offset + bytes));
            root.put(e.getKey(), info);
            offset += bytes;
        }
        if (!metadata.isEmpty()) {
            root.put(METADATA_KEY, metadata);
        }
        String json;
        try {
            json = new ObjectMapper().writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode safetensors header", e);
        }
        byte[] text = json.getBytes(StandardCharsets.UTF_8);
        int padded = (text.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(text, padded);
        Arrays.fill(out, text.length, padded, (byte) ' ');
        return out;
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // The original failure is the one worth reporting.
        }
    }
}
