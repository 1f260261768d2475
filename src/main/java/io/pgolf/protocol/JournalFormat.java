package io.pgolf.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * The bytes of a message journal: a file header (magic, format version), then records of
 * {@code [u32 payload length][u32 CRC32C of payload][payload]}, big-endian, where the payload is one
 * {@link JournalEntry} as {@link MessageSerializer} writes it.
 *
 * <p>The version must go up whenever the payload encoding changes in a way old readers would misread, such as a
 * renamed or retyped record component (Kryo writes record components in name order, without names).
 */
final class JournalFormat {
    static final byte[] MAGIC = "PGOLFJNL".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int FILE_HEADER_BYTES = MAGIC.length + Integer.BYTES;
    static final int RECORD_HEADER_BYTES = 2 * Integer.BYTES;
    /** The largest payload a writer accepts, so a reader can tell a damaged length field from a big record. */
    static final int MAX_PAYLOAD_BYTES = 256 << 20;

    private JournalFormat() {
    }

    static byte[] fileHeader() {
        return ByteBuffer.allocate(FILE_HEADER_BYTES).put(MAGIC).putInt(VERSION).array();
    }

    /** Throws unless {@code header}, the first bytes of {@code file}, is a whole header of this format version. */
    static void checkFileHeader(Path file, byte[] header) throws JournalFormatException {
        if (header.length < FILE_HEADER_BYTES) {
            throw new JournalFormatException(file, "the file has " + header.length
                    + " bytes, fewer than the " + FILE_HEADER_BYTES + "-byte journal header");
        }
        byte[] magic = Arrays.copyOf(header, MAGIC.length);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new JournalFormatException(file, "the file starts with bytes " + HexFormat.of().formatHex(magic)
                    + ", not the journal magic " + HexFormat.of().formatHex(MAGIC) + " (\"PGOLFJNL\")");
        }
        int version = ByteBuffer.wrap(header, MAGIC.length, Integer.BYTES).getInt();
        if (version != VERSION) {
            throw new JournalFormatException(file, "journal format version " + Integer.toUnsignedString(version)
                    + " is not the version this build reads (" + VERSION + ")");
        }
    }

    /** One whole record: its header followed by {@code payload}. */
    static byte[] record(byte[] payload) {
        return ByteBuffer.allocate(RECORD_HEADER_BYTES + payload.length)
                .putInt(payload.length)
                .putInt(crc32c(payload, payload.length))
                .put(payload)
                .array();
    }

    static int crc32c(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }
}
