package io.pgolf.data.shard;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A validated shard mapped into memory. Reads are safe from any thread until {@link #close()}.
 * Mapping through a memory segment keeps shards beyond 2 GiB addressable.
 */
public final class Shard implements AutoCloseable {
    private static final ValueLayout.OfChar TOKEN = ValueLayout.JAVA_CHAR_UNALIGNED.withOrder(ShardFormat.ORDER);

    private final Path file;
    private final int count;
    private final Arena arena;
    private final MemorySegment tokens;

    private Shard(Path file, int count, Arena arena, MemorySegment tokens) {
        this.file = file;
        this.count = count;
        this.arena = arena;
        this.tokens = tokens;
    }

    /** Maps {@code file} after checking its header and size; throws {@link ShardFormatException} naming what is wrong. */
    public static Shard open(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            int count = ShardHeader.validate(file, channel);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment tokens = channel.map(FileChannel.MapMode.READ_ONLY, ShardFormat.HEADER_BYTES,
                        (long) count * ShardFormat.TOKEN_BYTES, arena);
                return new Shard(file, count, arena, tokens);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    public Path file() {
        return file;
    }

    public int count() {
        return count;
    }

    /** Token {@code index}, read as unsigned 16-bit. */
    public int get(int index) {
        return tokens.getAtIndex(TOKEN, checkedIndex(index));
    }

    /** Copies tokens {@code [from, from + length)} into {@code dest} at {@code destPos}. */
    public void copyTo(int from, char[] dest, int destPos, int length) {
        checkRange(from, length);
        MemorySegment.copy(tokens, TOKEN, (long) from * ShardFormat.TOKEN_BYTES, dest, destPos, length);
    }

    /** Copies tokens {@code [from, from + length)} into {@code dest} at {@code destPos}, widened unsigned. */
    public void copyTo(int from, int[] dest, int destPos, int length) {
        char[] staged = new char[length];
        copyTo(from, staged, 0, length);
        for (int i = 0; i < length; i++) {
            dest[destPos + i] = staged[i];
        }
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "Shard[" + file + ", " + count + " tokens]";
    }

    private long checkedIndex(int index) {
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException("token " + index + " outside [0, " + count + ") of " + file);
        }
        return index;
    }

    private void checkRange(int from, int length) {
        if (from < 0 || length < 0 || (long) from + length > count) {
            throw new IndexOutOfBoundsException(
                    "tokens [" + from + ", " + ((long) from + length) + ") outside [0, " + count + ") of " + file);
        }
    }

    /** Reads only the header, for callers that need a shard's size without mapping it. */
    public static int readCount(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return ShardHeader.validate(file, channel);
        }
    }
}
