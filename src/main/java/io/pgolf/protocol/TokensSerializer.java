package io.pgolf.protocol;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.ImmutableSerializer;

/** Writes {@link Tokens} as a varint count followed by the raw unsigned 16-bit ids. */
final class TokensSerializer extends ImmutableSerializer<Tokens> {
    @Override
    public void write(Kryo kryo, Output output, Tokens tokens) {
        output.writeVarInt(tokens.length(), true);
        char[] ids = tokens.toCharArray();
        output.writeChars(ids, 0, ids.length);
    }

    @Override
    public Tokens read(Kryo kryo, Input input, Class<? extends Tokens> type) {
        int count = input.readVarInt(true);
        WireBounds.requireRemaining(input, 2L * count, "Tokens of " + count + " ids");
        return Tokens.adopt(input.readChars(count));
    }
}
