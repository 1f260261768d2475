package io.pgolf.protocol;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.ImmutableSerializer;

import java.nio.charset.StandardCharsets;

/**
 * Writes a String so that every Java string comes back exactly and a corrupt length fails before it allocates
 * (Kryo's own string reader sizes its buffer from the length it reads).
 *
 * <p>Well-formed text goes as UTF-8; a string holding an unpaired surrogate, which UTF-8 cannot carry, goes as raw
 * UTF-16 code units. The header is a varint {@code byteCount << 1 | utf16}.
 */
final class ExactStringSerializer extends ImmutableSerializer<String> {
    @Override
    public void write(Kryo kryo, Output output, String text) {
        if (isWellFormed(text)) {
            byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
            output.writeVarLong((long) utf8.length << 1, true);
            output.writeBytes(utf8);
        } else {
            output.writeVarLong((long) text.length() << 2 | 1, true);
            char[] units = text.toCharArray();
            output.writeChars(units, 0, units.length);
        }
    }

    @Override
    public String read(Kryo kryo, Input input, Class<? extends String> type) {
        long header = input.readVarLong(true);
        long byteCount = header >>> 1;
        WireBounds.requireRemaining(input, byteCount, "a string of " + byteCount + " bytes");
        if ((header & 1) == 0) {
            return new String(input.readBytes((int) byteCount), StandardCharsets.UTF_8);
        }
        if (byteCount % 2 != 0) {
            throw new KryoException("a UTF-16 string has an odd byte count " + byteCount);
        }
        return new String(input.readChars((int) (byteCount / 2)));
    }

    private static boolean isWellFormed(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }
}
