package io.pgolf.protocol;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.ImmutableSerializer;

import java.util.List;

/**
 * Writes the JDK's unmodifiable lists (what records get from {@code List.copyOf}) as a count and their elements, and
 * reads them back as unmodifiable lists, so a decoded message is as immutable as the one sent.
 */
final class ImmutableListSerializer extends ImmutableSerializer<List<?>> {
    @Override
    public void write(Kryo kryo, Output output, List<?> list) {
        output.writeVarInt(list.size(), true);
        for (Object element : list) {
            kryo.writeClassAndObject(output, element);
        }
    }

    @Override
    public List<?> read(Kryo kryo, Input input, Class<? extends List<?>> type) {
        int size = input.readVarInt(true);
        // Every element takes at least its one-byte class id.
        WireBounds.requireRemaining(input, size, "a list of " + size + " elements");
        Object[] elements = new Object[size];
        for (int i = 0; i < size; i++) {
            Object element = kryo.readClassAndObject(input);
            if (element == null) {
                throw new KryoException("element " + i + " of an unmodifiable list is null");
            }
            elements[i] = element;
        }
        return List.of(elements);
    }
}
