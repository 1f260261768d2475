package io.pgolf.data.shard;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/** Writes a shard under a temporary name in the target's directory and renames it into place, so readers never see half a shard. */
public final class ShardWriter {
    /** Tokens converted per bulk write; bounds the staging buffer for 100M-token shards. */
    private static final int CHUNK_TOKENS = 1 << 22;

    private ShardWriter() {
    }

    /** Writes {@code tokens[0..count)} as the shard {@code file}, replacing any file of that name. */
    public static void write(Path file, char[] tokens, int count) throws IOException {
        if (count < 0 || count > tokens.length) {
            throw new IllegalArgumentException("count " + count + " outside [0, " + tokens.length + "] for " + file);
        }
        Path target = file.toAbsolutePath();
        // Not Files.createTempFile: its owner-only permissions would carry over to the finished shard.
        Path temp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(channel, header(count));
                ByteBuffer chunk = ByteBuffer.allocateDirect(Math.min(count, CHUNK_TOKENS) * ShardFormat.TOKEN_BYTES)
                        .order(ShardFormat.ORDER);
                for (int from = 0; from < count; from += CHUNK_TOKENS) {
                    int length = Math.min(CHUNK_TOKENS, count - from);
                    chunk.clear();
                    chunk.asCharBuffer().put(tokens, from, length);
                    chunk.limit(length * ShardFormat.TOKEN_BYTES);
                    writeFully(channel, chunk);
                }
                channel.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (Throwable failure) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException cleanup) {
                failure.addSuppressed(cleanup);
            }
            throw failure;
        }
    }

    private static ByteBuffer header(int count) {
        ByteBuffer header = ByteBuffer.allocate(ShardFormat.HEADER_BYTES).order(ShardFormat.ORDER);
        header.putInt(0, ShardFormat.MAGIC).putInt(4, ShardFormat.VERSION).putInt(8, count);
        return header;
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
