package io.pgolf.data.artifact;

import io.pgolf.model.quant.QuantizedModel;
import io.pgolf.model.quant.QuantizedTensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * A {@link QuantizedModel} as bytes, little-endian: a table of tensors, then their data in table order.
 *
 * <pre>
 * u32 tensor count
 * per tensor: u8 kind (1 codes, 2 float16), u16 name length, UTF-8 name, u8 rank, u32 per dimension,
 *             u8 bits (codes only)
 * then per tensor, each array starting at an even offset (one zero byte of padding where needed):
 *   codes:   rows * cols bytes, one signed byte per code (as the reference's int8 tensors), then rows float16 scales
 *   float16: the values
 * </pre>
 *
 * Codes take a whole byte each even at 6 bits, like the reference's: the stride-2 shuffle and the compressor then
 * see the codes' small range directly. Even offsets keep each float16's low and high bytes apart after the shuffle.
 */
public final class QuantizedModelBytes {
    static final int KIND_CODES = 1;
    static final int KIND_FLOAT16 = 2;

    private QuantizedModelBytes() {
    }

    public static byte[] encode(QuantizedModel model) {
        List<QuantizedTensor> tensors = model.tensors();
        long size = 4;
        List<byte[]> names = new ArrayList<>();
        for (QuantizedTensor t : tensors) {
            byte[] name = t.name().getBytes(StandardCharsets.UTF_8);
            if (name.length > 0xFFFF || t.shape().length > 0xFF) {
                throw new IllegalArgumentException(t.name() + ": name or rank too long for the artifact's table");
            }
            names.add(name);
            size += 1 + 2 + name.length + 1 + 4L * t.shape().length + (t instanceof QuantizedTensor.Codes ? 1 : 0);
        }
        for (QuantizedTensor t : tensors) {
            switch (t) {
                case QuantizedTensor.Codes c -> size = even(even(size) + c.codes().length) + 2L * c.scales().length;
                case QuantizedTensor.Float16 f -> size = even(size) + 2L * f.values().length;
            }
        }
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a quantized model of " + size + " bytes does not fit one array");
        }
        ByteBuffer out = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(tensors.size());
        for (int i = 0; i < tensors.size(); i++) {
            QuantizedTensor t = tensors.get(i);
            out.put((byte) (t instanceof QuantizedTensor.Codes ? KIND_CODES : KIND_FLOAT16));
            out.putShort((short) names.get(i).length).put(names.get(i));
            out.put((byte) t.shape().length);
            for (int d : t.shape()) {
                out.putInt(d);
            }
            if (t instanceof QuantizedTensor.Codes c) {
                out.put((byte) c.bits());
            }
        }
        for (QuantizedTensor t : tensors) {
            padToEven(out);
            switch (t) {
                case QuantizedTensor.Codes c -> {
                    out.put(c.codes());
                    padToEven(out);
                    out.asShortBuffer().put(c.scales());
                    out.position(out.position() + 2 * c.scales().length);
                }
                case QuantizedTensor.Float16 f -> {
                    out.asShortBuffer().put(f.values());
                    out.position(out.position() + 2 * f.values().length);
                }
            }
        }
        return out.array();
    }

    /**
     * Reads {@link #encode}'s bytes back.
     *
     * @throws IllegalArgumentException naming the offset and the tensor when the bytes do not follow the layout
     */
    public static QuantizedModel decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int count = need(in, 4, "the tensor count").getInt();
        if (count < 0 || count > bytes.length) {
            throw malformed(0, "tensor count " + Integer.toUnsignedString(count) + " is impossible in " + bytes.length + " bytes");
        }
        record Entry(int kind, String name, int[] shape, int bits) {
        }
        List<Entry> table = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int at = in.position();
            int kind = need(in, 1, "tensor " + i + "'s kind").get();
            if (kind != KIND_CODES && kind != KIND_FLOAT16) {
                throw malformed(at, "tensor " + i + " has unknown kind " + kind);
            }
            int nameLength = Short.toUnsignedInt(need(in, 2, "tensor " + i + "'s name length").getShort());
            byte[] name = new byte[nameLength];
            need(in, nameLength, "tensor " + i + "'s name").get(name);
            String tensor = "tensor '" + new String(name, StandardCharsets.UTF_8) + "'";
            int[] shape = new int[Byte.toUnsignedInt(need(in, 1, tensor + "'s rank").get())];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = need(in, 4, tensor + "'s shape").getInt();
                if (shape[d] < 0) {
                    throw malformed(in.position() - 4, tensor + " has a negative dimension");
                }
            }
            int bits = kind == KIND_CODES ? need(in, 1, tensor + "'s bits").get() : 0;
            table.add(new Entry(kind, new String(name, StandardCharsets.UTF_8), shape, bits));
        }
        List<QuantizedTensor> tensors = new ArrayList<>();
        for (Entry e : table) {
            String tensor = "tensor '" + e.name() + "' " + Arrays.toString(e.shape());
            long elements = 1;
            for (int d : e.shape()) {
                elements *= d;
                if (elements > bytes.length) {
                    throw malformed(in.position(), tensor + " has more values than the payload has bytes");
                }
            }
            skipPadding(in, tensor);
            int at = in.position();
            if (e.kind() == KIND_CODES) {
                byte[] codes = new byte[(int) elements];
                need(in, codes.length, tensor + "'s codes").get(codes);
                skipPadding(in, tensor);
                short[] scales = shorts(in, e.shape().length > 0 ? e.shape()[0] : 0, tensor + "'s scales");
                tensors.add(validated(at, () -> new QuantizedTensor.Codes(e.name(), e.shape(), e.bits(), codes, scales)));
            } else {
                short[] values = shorts(in, (int) elements, tensor + "'s values");
                tensors.add(validated(at, () -> new QuantizedTensor.Float16(e.name(), e.shape(), values)));
            }
        }
        if (in.hasRemaining()) {
            throw malformed(in.position(), in.remaining() + " bytes follow the last tensor");
        }
        return new QuantizedModel(tensors);
    }

    /** The tensor's own checks (code range, sizes), reported at the offset of its data. */
    private static QuantizedTensor validated(int offset, Supplier<QuantizedTensor> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw malformed(offset, e.getMessage());
        }
    }

    private static short[] shorts(ByteBuffer in, int count, String what) {
        short[] out = new short[count];
        need(in, 2L * count, what).asShortBuffer().get(out);
        in.position(in.position() + 2 * count);
        return out;
    }

    private static ByteBuffer need(ByteBuffer in, long bytes, String what) {
        if (bytes > in.remaining()) {
            throw malformed(in.position(), "the bytes end before " + what + " (" + bytes + " bytes needed, "
                    + in.remaining() + " left)");
        }
        return in;
    }

    private static void skipPadding(ByteBuffer in, String tensor) {
        if (in.position() % 2 != 0) {
            int at = in.position();
            if (need(in, 1, tensor + "'s padding").get() != 0) {
                throw malformed(at, "padding before " + tensor + " is not zero");
            }
        }
    }

    private static void padToEven(ByteBuffer out) {
        if (out.position() % 2 != 0) {
            out.put((byte) 0);
        }
    }

    private static long even(long offset) {
        return offset + (offset & 1);
    }

    private static IllegalArgumentException malformed(int offset, String problem) {
        return new IllegalArgumentException("quantized model bytes, offset " + offset + ": " + problem);
    }
}
