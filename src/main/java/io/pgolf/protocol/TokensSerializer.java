package io.pgolf.protocol;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.ImmutableSerializer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes {@link Tokens} as a varint count followed by the raw ids as little-endian uint16, the shards' own layout.
 * The ids are copied in bulk through a CharBuffer view; Kryo's char-by-char writeChars is several times slower.
 */
final class TokensSerializer extends ImmutableSerializer<Tokens> {
    @Override
    public void write(Kryo kryo, Output output, Tokens tokens) {
        byte[] bytes = new byte[2 * tokens.length()];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asCharBuffer().put(tokens.toCharArray());
        output.writeVarInt(tokens.length(), true);
        output.writeBytes(bytes);
    }

    @Override
    public Tokens read(Kryo kryo, Input input, Class<? extends Tokens> type) {
        int count = input.readVarInt(true);
        WireBounds.requireRemaining(input, 2L * count, "Tokens of " + count + " ids");
        char[] ids = new char[count];
        ByteBuffer.wrap(input.readBytes(2 * count)).order(ByteOrder.LITTLE_ENDIAN).asCharBuffer().get(ids);
        return Tokens.adopt(ids);
    }
}
