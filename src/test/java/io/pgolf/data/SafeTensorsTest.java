package io.pgolf.data;

import io.pgolf.testing.SharedFiles;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path dir;

    /** Writes a safetensors file from a header (data_offsets filled in) and the tensors' raw bytes. */
    private Path write(String name, String header, byte[] data) throws Exception {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
        out.writeBytes(json);
        out.writeBytes(data);
        Path file = dir.resolve(name);
        Files.write(file, out.toByteArray());
        return file;
    }

    private static byte[] le(int bytesPerValue, long... values) {
        ByteBuffer buffer = ByteBuffer.allocate(bytesPerValue * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (bytesPerValue) {
                case 1 -> buffer.put((byte) v);
                case 2 -> buffer.putShort((short) v);
                case 4 -> buffer.putInt((int) v);
                default -> buffer.putLong(v);
            }
        }
        return buffer.array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    @Test
    void readsEveryDtype() throws Exception {
        byte[] f32 = le(4, Float.floatToIntBits(1.5f), Float.floatToIntBits(-2f));
        byte[] f64 = le(8, Double.doubleToLongBits(0.25), Double.doubleToLongBits(-3.0));
        byte[] f16 = le(2, 0x3C00, 0xC000); // 1.0, -2.0
        byte[] bf16 = le(2, 0x3FC0, 0xBF80); // 1.5, -1.0
        byte[] i64 = le(8, -5L, 1L << 40);
        byte[] i32 = le(4, -7, 123456);
        byte[] i16 = le(2, -300, 300);
        byte[] i8 = le(1, -1, 127);
        byte[] u8 = le(1, 255, 1);
        byte[] bool = le(1, 1, 0);
        List<byte[]> parts = List.of(f32, f64, f16, bf16, i64, i32, i16, i8, u8, bool);
        List<String> names = List.of("F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL");
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        int offset = 0;
        for (int i = 0; i < parts.size(); i++) {
            header.append(",\"t.").append(names.get(i)).append("\":{\"dtype\":\"").append(names.get(i))
                    .append("\",\"shape\":[2],\"data_offsets\":[").append(offset).append(',')
                    .append(offset + parts.get(i).length).append("]}");
            offset += parts.get(i).length;
        }
        header.append('}');
        Path file = write("all.safetensors", header.toString(), concat(parts.toArray(byte[][]::new)));
        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertEquals(names.stream().map(n -> "t." + n).toList(), List.copyOf(st.names()));
            assertArrayEquals(new float[] {1.5f, -2f}, st.floats("t.F32"));
            assertArrayEquals(new float[] {0.25f, -3f}, st.floats("t.F64"));
            assertArrayEquals(new float[] {1f, -2f}, st.floats("t.F16"));
            assertArrayEquals(new float[] {1.5f, -1f}, st.floats("t.BF16"));
            assertArrayEquals(new long[] {-5, 1L << 40}, st.longs("t.I64"));
            assertArrayEquals(new int[] {-7, 123456}, st.ints("t.I32"));
            assertArrayEquals(new int[] {-300, 300}, st.ints("t.I16"));
            assertArrayEquals(new int[] {-1, 127}, st.ints("t.I8"));
            assertArrayEquals(new int[] {255, 1}, st.ints("t.U8"));
            assertArrayEquals(new int[] {1, 0}, st.ints("t.BOOL"));
            assertArrayEquals(i16, st.rawBytes("t.I16"));
            assertTrue(st.contains("t.I16") && !st.contains("I16"));
            assertEquals(SafeTensors.DType.I16, st.info("t.I16").dtype());
            assertArrayEquals(new long[] {2}, st.info("t.I16").shape());
            IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class, () -> st.ints("t.I64"));
            assertTrue(tooBig.getMessage().contains("does not fit"), tooBig.getMessage());
            IllegalArgumentException wrongType = assertThrows(IllegalArgumentException.class, () -> st.floats("t.I32"));
            assertTrue(wrongType.getMessage().contains("t.I32"), wrongType.getMessage());
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> st.info("nope"));
            assertTrue(missing.getMessage().contains(file.toString()), missing.getMessage());
        }
    }

    @Test
    void readsTheReferenceFixture() {
        try (SafeTensors st = SafeTensors.open(SharedFiles.file("fixtures/reference_tiny.safetensors"))) {
            SafeTensors.TensorInfo info = st.info("lut1024.base_bytes");
            assertEquals(SafeTensors.DType.I16, info.dtype());
            assertArrayEquals(new long[] {1024}, info.shape());
            assertEquals(1024, st.ints("lut1024.base_bytes").length);
        }
    }

    @Test
    void rejectsMalformedFilesNamingThem() throws Exception {
        String good = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        List<Path> bad = List.of(
                writeRaw("short.safetensors", new byte[] {1, 2, 3}),
                writeRaw("huge-header.safetensors", le(8, 1_000_000L)),
                write("not-json.safetensors", "{\"x\": [", new byte[0]),
                write("not-object.safetensors", "[1, 2]", new byte[0]),
                write("bad-dtype.safetensors", good.replace("F32", "Q7"), new byte[8]),
                write("bad-shape.safetensors", good.replace("[2]", "[-2]"), new byte[8]),
                write("offsets-mismatch.safetensors", good.replace("[0,8]", "[0,4]"), new byte[8]),
                write("past-end.safetensors", good, new byte[4]),
                write("missing-field.safetensors", "{\"x\":{\"dtype\":\"F32\",\"shape\":[2]}}", new byte[8]));
        for (Path file : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.open(file),
                    file.getFileName().toString());
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        }
    }

    private Path writeRaw(String name, byte[] bytes) throws Exception {
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        return file;
    }
}
