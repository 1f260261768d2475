package io.pgolf.protocol;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * Reads a message journal front to back, one entry at a time, so journals of any size stream through.
 *
 * <p>Iteration ends at the end of the file or at a torn last record, which {@link #tornTail()} then reports. A record
 * that is whole but wrong throws {@link JournalCorruptException}; an I/O failure throws {@link UncheckedIOException}.
 */
public final class JournalReader implements Iterator<JournalEntry>, Closeable {
    private static final int BUFFER_BYTES = 1 << 16;

    private final Path file;
    private final InputStream in;
    private long offset = JournalFormat.FILE_HEADER_BYTES;
    private long recordIndex;
    private long previousSeq = -1;
    private JournalEntry next;
    private boolean ended;
    private TornTail tornTail;
    private RuntimeException failure;

    private JournalReader(Path file, InputStream in) {
        this.file = file;
        this.in = in;
    }

    /** Opens {@code file} and checks its header; JournalFormatException if it is not a journal of this version. */
    public static JournalReader open(Path file) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(file), BUFFER_BYTES);
        try {
            JournalFormat.checkFileHeader(file, in.readNBytes(JournalFormat.FILE_HEADER_BYTES));
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
        return new JournalReader(file, in);
    }

    /** All of {@code file}'s whole entries, and its torn tail if it has one. */
    public static JournalReadResult readAll(Path file) throws IOException {
        try (JournalReader reader = open(file)) {
            List<JournalEntry> entries = new ArrayList<>();
            reader.forEachRemaining(entries::add);
            return new JournalReadResult(file, entries, reader.tornTail());
        }
    }

    @Override
    public boolean hasNext() {
        if (failure != null) {
            throw failure;
        }
        if (next == null && !ended) {
            try {
                next = readRecord();
            } catch (IOException e) {
                failure = new UncheckedIOException(file + ": cannot read record " + recordIndex + " at byte offset " + offset, e);
            } catch (JournalCorruptException e) {
                failure = e;
            }
            if (failure != null) {
                throw failure;
            }
        }
        return next != null;
    }

    @Override
    public JournalEntry next() {
        if (!hasNext()) {
            throw new NoSuchElementException(file + " has no more whole entries");
        }
        JournalEntry entry = next;
        next = null;
        return entry;
    }

    /** The torn record the file ends with, if any; only known once iteration has ended. */
    public Optional<TornTail> tornTail() {
        if (!ended) {
            throw new IllegalStateException("the torn tail of " + file + " is known only after reading to its end");
        }
        return Optional.ofNullable(tornTail);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private JournalEntry readRecord() throws IOException {
        byte[] header = in.readNBytes(JournalFormat.RECORD_HEADER_BYTES);
        if (header.length == 0) {
            ended = true;
            return null;
        }
        if (header.length < JournalFormat.RECORD_HEADER_BYTES) {
            return endTorn(header.length, JournalFormat.RECORD_HEADER_BYTES);
        }
        ByteBuffer fields = ByteBuffer.wrap(header);
        long length = Integer.toUnsignedLong(fields.getInt());
        int storedCrc = fields.getInt();
        if (length > JournalFormat.MAX_PAYLOAD_BYTES) {
            throw corrupt("its length field says " + length + " bytes, more than any writer writes ("
                    + JournalFormat.MAX_PAYLOAD_BYTES + ")", null);
        }
        // readNBytes grows its buffer as bytes arrive, so a damaged length does not allocate up front.
        byte[] payload = in.readNBytes((int) length);
        if (payload.length < length) {
            checkOverrunIsTorn(payload, length, storedCrc);
            return endTorn(JournalFormat.RECORD_HEADER_BYTES + payload.length, JournalFormat.RECORD_HEADER_BYTES + length);
        }
        int crc = JournalFormat.crc32c(payload, payload.length);
        if (crc != storedCrc) {
            throw corrupt("the CRC32C of its " + length + "-byte payload is " + Integer.toHexString(crc)
                    + " but the record says " + Integer.toHexString(storedCrc), null);
        }
        JournalEntry entry;
        try {
            entry = MessageSerializer.entryFromBytes(payload, payload.length);
        } catch (MessageDecodeException e) {
            throw corrupt("its payload passes the CRC but is not a journal entry this build can decode: "
                    + e.getMessage(), e);
        }
        if (entry.seq() <= previousSeq) {
            throw corrupt("its seq " + entry.seq() + " does not come after the previous seq " + previousSeq, null);
        }
        previousSeq = entry.seq();
        offset += JournalFormat.RECORD_HEADER_BYTES + length;
        recordIndex++;
        return entry;
    }

    /**
     * A record that runs past the end of the file is torn only if the bytes present are a strict prefix of one entry.
     * The entry encoding is prefix-free, so if a whole entry decodes from them, the length field itself is damaged.
     */
    private void checkOverrunIsTorn(byte[] present, long length, int storedCrc) {
        int entryBytes = MessageSerializer.entryPrefixLength(present, present.length);
        if (entryBytes >= 0) {
            boolean crcMatches = JournalFormat.crc32c(present, entryBytes) == storedCrc;
            throw corrupt("its length field says " + length + " bytes, past the end of the file, but a whole entry of "
                    + entryBytes + " bytes " + (crcMatches ? "with a matching CRC32C " : "") + "starts its payload,"
                    + " so the length field is damaged", null);
        }
    }

    private JournalEntry endTorn(long bytesPresent, long bytesExpected) {
        tornTail = new TornTail(offset, recordIndex, bytesPresent, bytesExpected);
        ended = true;
        return null;
    }

    private JournalCorruptException corrupt(String problem, Throwable cause) {
        return new JournalCorruptException(file, offset, recordIndex, problem, cause);
    }
}
