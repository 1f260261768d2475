package io.pgolf.data.shard;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** Reads a shard's header and applies the checks every reader must: size, magic, version, count. */
final class ShardHeader {
    private ShardHeader() {
    }

    /** Returns the token count of the shard open on {@code channel}, or throws naming {@code file} and the fault. */
    static int validate(Path file, FileChannel channel) throws IOException {
        long size = channel.size();
        if (size < ShardFormat.HEADER_BYTES) {
            throw new ShardFormatException(file,
                    "file is " + size + " bytes, shorter than the " + ShardFormat.HEADER_BYTES + "-byte header");
        }
        ByteBuffer header = ByteBuffer.allocate(3 * Integer.BYTES).order(ShardFormat.ORDER);
        while (header.hasRemaining()) {
            if (channel.read(header, header.position()) < 0) {
                throw new ShardFormatException(file, "header ended early at byte " + header.position());
            }
        }
        int magic = header.getInt(0);
        int version = header.getInt(4);
        int count = header.getInt(8);
        if (magic != ShardFormat.MAGIC) {
            throw new ShardFormatException(file, "bad magic: expected " + ShardFormat.MAGIC + ", found " + magic);
        }
        if (version != ShardFormat.VERSION) {
            throw new ShardFormatException(file, "bad version: expected " + ShardFormat.VERSION + ", found " + version);
        }
        if (count < 0) {
            throw new ShardFormatException(file, "bad token count: expected >= 0, found " + count);
        }
        long expected = ShardFormat.fileSize(count);
        if (size != expected) {
            throw new ShardFormatException(file, "size mismatch: header says " + count + " tokens, so expected "
                    + expected + " bytes, found " + size);
        }
        return count;
    }
}
