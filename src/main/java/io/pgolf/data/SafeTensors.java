package io.pgolf.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SequencedSet;
import java.util.TreeMap;

/**
 * A read-only safetensors file: an 8-byte little-endian header length, a JSON header mapping each tensor
 * name to {dtype, shape, data_offsets} (plus an optional string map {@code __metadata__}), then the raw
 * little-endian tensor data. The file is memory-mapped until {@link #close()}; the accessors copy.
 */
public final class SafeTensors implements AutoCloseable {
    /** Element types, by their safetensors names. */
    public enum DType {
        F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

        private final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }

        public int bytes() {
            return bytes;
        }
    }

    /** Where a tensor lies: {@code [begin, end)} relative to the start of the data section. */
    public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
        public TensorInfo {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long elementCount() {
            long count = 1;
            for (long dim : shape) {
                count = Math.multiplyExact(count, dim);
            }
            return count;
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape);
        }
    }

    private static final String METADATA_KEY = "__metadata__";
    private static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;
    private final SequencedMap<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafeTensors(Path file, Arena arena, MemorySegment data, SequencedMap<String, TensorInfo> tensors,
                        Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Opens and checks a file: every tensor must have a known dtype, a non-negative shape and a byte range
     * inside the data section that matches its shape.
     *
     * @throws UncheckedIOException     when the file cannot be read
     * @throws IllegalArgumentException naming the file, when the header is malformed
     */
    public static SafeTensors open(Path file) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment whole = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            long size = whole.byteSize();
            if (size < 8) {
                throw malformed(file, "file of " + size + " bytes has no header length");
            }
            long headerLength = whole.get(LONG_LE, 0);
            if (headerLength <= 0 || headerLength > Math.min(MAX_HEADER_BYTES, size - 8)) {
                throw malformed(file, "header length " + headerLength + " does not fit a file of " + size + " bytes");
            }
            String header = new String(whole.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE),
                    StandardCharsets.UTF_8);
            MemorySegment data = whole.asSlice(8 + headerLength);
            Map<String, String> metadata = new TreeMap<>();
            SequencedMap<String, TensorInfo> tensors = parseHeader(file, header, data.byteSize(), metadata);
            return new SafeTensors(file, arena, data, tensors, Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read safetensors file " + file, e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SequencedMap<String, TensorInfo> parseHeader(Path file, String header, long dataSize,
                                                       Map<String, String> metadata) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(header);
        } catch (JsonProcessingException e) {
            throw malformed(file, "header is not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw malformed(file, "header is not a JSON object");
        }
        SequencedMap<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String name = entry.getKey();
            JsonNode node = entry.getValue();
            if (name.equals(METADATA_KEY)) {
                if (!node.isObject()) {
                    throw malformed(file, METADATA_KEY + " is not an object");
                }
                node.fields().forEachRemaining(m -> {
                    if (!m.getValue().isTextual()) {
                        throw malformed(file, METADATA_KEY + "." + m.getKey() + " is not a string");
                    }
                    metadata.put(m.getKey(), m.getValue().asText());
                });
                continue;
            }
            tensors.put(name, parseTensor(file, name, node, dataSize));
        }
        return Collections.unmodifiableSequencedMap(tensors);
    }

    private static TensorInfo parseTensor(Path file, String name, JsonNode node, long dataSize) {
        String where = "tensor '" + name + "'";
        JsonNode dtypeNode = node.get("dtype");
        JsonNode shapeNode = node.get("shape");
        JsonNode offsetsNode = node.get("data_offsets");
        if (!node.isObject() || dtypeNode == null || !dtypeNode.isTextual() || shapeNode == null
                || !shapeNode.isArray() || offsetsNode == null || !offsetsNode.isArray() || offsetsNode.size() != 2) {
            throw malformed(file, where + " needs dtype (string), shape (array) and data_offsets ([begin, end])");
        }
        DType dtype;
        try {
            dtype = DType.valueOf(dtypeNode.asText());
        } catch (IllegalArgumentException e) {
            throw malformed(file, where + " has unsupported dtype " + dtypeNode.asText());
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegative(file, where + " shape[" + i + "]", shapeNode.get(i));
        }
        long begin = nonNegative(file, where + " data_offsets[0]", offsetsNode.get(0));
        long end = nonNegative(file, where + " data_offsets[1]", offsetsNode.get(1));
        TensorInfo info = new TensorInfo(name, dtype, shape, begin, end);
        long expected;
        try {
            expected = Math.multiplyExact(info.elementCount(), dtype.bytes());
        } catch (ArithmeticException e) {
            throw malformed(file, where + " shape " + Arrays.toString(shape) + " is too large");
        }
        if (begin > end || end > dataSize || end - begin != expected) {
            throw malformed(file, where + " data_offsets [" + begin + ", " + end + "] do not hold " + expected
                    + " bytes inside a data section of " + dataSize + " bytes");
        }
        return info;
    }

    private static long nonNegative(Path file, String what, JsonNode node) {
        if (node == null || !node.canConvertToExactIntegral() || !node.canConvertToLong() || node.asLong() < 0) {
            throw malformed(file, what + " is not a non-negative integer");
        }
        return node.asLong();
    }

    private static IllegalArgumentException malformed(Path file, String message) {
        return new IllegalArgumentException(file + ": malformed safetensors file: " + message);
    }

    public Path file() {
        return file;
    }

    /** Tensor names in header order. */
    public SequencedSet<String> names() {
        return tensors.sequencedKeySet();
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new IllegalArgumentException(file + ": no tensor named '" + name + "'");
        }
        return info;
    }

    /** The {@code __metadata__} entries (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** A floating-point tensor's values as float (F64 rounded, F16 and BF16 widened exactly). */
    public float[] floats(String name) {
        TensorInfo info = info(name);
        MemorySegment bytes = segment(info);
        float[] out = new float[elements(info)];
        switch (info.dtype()) {
            case F32 -> MemorySegment.copy(bytes, FLOAT_LE, 0, out, 0, out.length);
            case F64 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) bytes.getAtIndex(DOUBLE_LE, i);
                }
            }
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.float16ToFloat(bytes.getAtIndex(SHORT_LE, i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = Float.intBitsToFloat(bytes.getAtIndex(SHORT_LE, i) << 16);
                }
            }
            default -> throw wrongType(info, "a floating-point");
        }
        return out;
    }

    /** An integer or BOOL tensor's values as long (U8 and BOOL read unsigned). */
    public long[] longs(String name) {
        TensorInfo info = info(name);
        MemorySegment bytes = segment(info);
        long[] out = new long[elements(info)];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (info.dtype()) {
                case I64 -> bytes.getAtIndex(LONG_LE, i);
                case I32 -> bytes.getAtIndex(INT_LE, i);
                case I16 -> bytes.getAtIndex(SHORT_LE, i);
                case I8 -> bytes.get(ValueLayout.JAVA_BYTE, i);
                case U8, BOOL -> bytes.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
                default -> throw wrongType(info, "an integer");
            };
        }
        return out;
    }

    /** An integer or BOOL tensor's values as int; an I64 value outside the int range is an error. */
    public int[] ints(String name) {
        long[] values = longs(name);
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (int) values[i];
            if (out[i] != values[i]) {
                throw new IllegalArgumentException(file + ": tensor '" + name + "' element " + i + " = "
                        + values[i] + " does not fit in an int");
            }
        }
        return out;
    }

    /** A tensor's bytes exactly as stored (little-endian elements). */
    public byte[] rawBytes(String name) {
        TensorInfo info = info(name);
        if (info.end() - info.begin() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(file + ": tensor '" + name + "' is too large for one Java array");
        }
        return segment(info).toArray(ValueLayout.JAVA_BYTE);
    }

    private MemorySegment segment(TensorInfo info) {
        return data.asSlice(info.begin(), info.end() - info.begin());
    }

    private int elements(TensorInfo info) {
        long count = info.elementCount();
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(file + ": tensor '" + info.name() + "' has " + count
                    + " elements, too many for one Java array");
        }
        return (int) count;
    }

    private IllegalArgumentException wrongType(TensorInfo info, String wanted) {
        return new IllegalArgumentException(file + ": tensor '" + info.name() + "' is " + info.dtype()
                + ", not " + wanted + " type");
    }

    /** Unmaps the file; arrays already returned stay valid. */
    @Override
    public void close() {
        arena.close();
    }
}
