package io.pgolf.protocol;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;

import java.util.Objects;
import java.util.function.BiFunction;

/**
 * Turns {@link PipelineMessage}s and {@link JournalEntry}s into bytes and back with Kryo, using only the ids of
 * {@link WireRegistry}. Safe to call from any thread: Kryo instances are not, so each call borrows one from a pool.
 */
public final class MessageSerializer {
    private static final int INITIAL_BUFFER_BYTES = 256;

    private static final Pool<Kryo> KRYOS = new Pool<>(true, false, 4 * Runtime.getRuntime().availableProcessors()) {
        @Override
        protected Kryo create() {
            return WireRegistry.newKryo();
        }
    };

    private MessageSerializer() {
    }

    /** The message's class id and fields; throws IllegalArgumentException if it holds a class with no wire id. */
    public static byte[] toBytes(PipelineMessage message) {
        Objects.requireNonNull(message, "message");
        return encode(message, Kryo::writeClassAndObject);
    }

    /** The message {@code bytes} hold, which must be exactly one message; MessageDecodeException otherwise. */
    public static PipelineMessage fromBytes(byte[] bytes) {
        Object decoded = decode(bytes, bytes.length, Kryo::readClassAndObject);
        if (!(decoded instanceof PipelineMessage message)) {
            throw new MessageDecodeException("the " + bytes.length + " bytes hold a "
                    + decoded.getClass().getName() + ", not a PipelineMessage");
        }
        return message;
    }

    /** The entry without a class id: a journal record holds nothing else. */
    static byte[] entryToBytes(JournalEntry entry) {
        return encode(entry, Kryo::writeObject);
    }

    /** The entry that the first {@code length} bytes hold, with nothing left over; MessageDecodeException otherwise. */
    static JournalEntry entryFromBytes(byte[] bytes, int length) {
        return decode(bytes, length, (kryo, input) -> kryo.readObject(input, JournalEntry.class));
    }

    /**
     * How many leading bytes of {@code bytes[0, length)} form a whole entry, or -1 if no prefix decodes as one.
     * The encoding is prefix-free, so a strict prefix of an entry's bytes never decodes.
     */
    static int entryPrefixLength(byte[] bytes, int length) {
        Kryo kryo = KRYOS.obtain();
        Input input = new Input(bytes, 0, length);
        try {
            kryo.readObject(input, JournalEntry.class);
        } catch (RuntimeException e) {
            return -1;
        }
        KRYOS.free(kryo);
        return input.position();
    }

    // A Kryo that threw is dropped rather than pooled: its internal state after a failure is not documented.

    private static <T> byte[] encode(T value, EncodeStep<T> step) {
        Kryo kryo = KRYOS.obtain();
        Output output = new Output(INITIAL_BUFFER_BYTES, -1);
        try {
            step.write(kryo, output, value);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot serialize " + value.getClass().getName() + ": " + e.getMessage(), e);
        }
        KRYOS.free(kryo);
        return output.toBytes();
    }

    private static <T> T decode(byte[] bytes, int length, BiFunction<Kryo, Input, T> step) {
        Kryo kryo = KRYOS.obtain();
        Input input = new Input(bytes, 0, length);
        T value;
        try {
            value = step.apply(kryo, input);
        } catch (RuntimeException e) {
            throw new MessageDecodeException("cannot decode a message from " + length + " bytes: " + e.getMessage(), e);
        }
        KRYOS.free(kryo);
        if (input.position() != length) {
            throw new MessageDecodeException("a message ends at byte " + input.position() + " of " + length
                    + "; the bytes after it belong to nothing");
        }
        if (value == null) {
            throw new MessageDecodeException("the " + length + " bytes encode null, not a message");
        }
        return value;
    }

    @FunctionalInterface
    private interface EncodeStep<T> {
        void write(Kryo kryo, Output output, T value);
    }
}
