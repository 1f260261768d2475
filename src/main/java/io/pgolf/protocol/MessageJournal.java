package io.pgolf.protocol;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Appends the messages an actor system exchanges to a journal file (format in {@link JournalFormat}), for replays and
 * audits. Bytes once written are never rewritten. Safe for several actors at once: append, flush and close are
 * synchronized.
 *
 * <p>Records wait in memory until {@code flushEveryRecords} of them have gathered (or {@link #FLUSH_BYTES}), on
 * {@link #flush()}, and on {@link #close()}; with {@code fsync} each flush also forces them to the device. A failed
 * write leaves the journal unusable, since its tail may then be torn.
 *
 * <p>One writer per file within this JVM: a second open of a file already open for writing is refused. Nothing
 * guards against a writer in another process (a POSIX file lock would not do: closing any reader of the file in this
 * process would silently release it).
 */
public final class MessageJournal implements Closeable {
    /** Flush policy: write after this many appended records; optionally fsync every write. */
    public record Options(int flushEveryRecords, boolean fsync) {
        /** Every record reaches the operating system as it is appended; no fsync. */
        public static final Options DEFAULT = new Options(1, false);

        public Options {
            if (flushEveryRecords < 1) {
                throw new IllegalArgumentException("flushEveryRecords must be at least 1, got " + flushEveryRecords);
            }
        }
    }

    /** Pending records are written once they reach this size whatever the options say, to bound memory. */
    public static final int FLUSH_BYTES = 8 << 20;

    private static final Set<Path> OPEN_FOR_WRITING = ConcurrentHashMap.newKeySet();

    private final Path file;
    private final Path claim;
    private final FileChannel channel;
    private final Options options;
    private final Optional<TornTail> droppedTornTail;
    private final List<ByteBuffer> pending = new ArrayList<>();
    private long pendingBytes;
    private long nextSeq;
    private IOException writeFailure;
    private boolean closed;

    private MessageJournal(Path file, Path claim, FileChannel channel, Options options, long nextSeq,
                           Optional<TornTail> droppedTornTail) {
        this.file = file;
        this.claim = claim;
        this.channel = channel;
        this.options = options;
        this.nextSeq = nextSeq;
        this.droppedTornTail = droppedTornTail;
    }

    /** Starts a new, empty journal; fails if {@code file} exists. */
    public static MessageJournal create(Path file, Options options) throws IOException {
        Path claim = claim(file);
        try {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
            try {
                ByteBuffer header = ByteBuffer.wrap(JournalFormat.fileHeader());
                while (header.hasRemaining()) {
                    channel.write(header);
                }
                if (options.fsync()) {
                    channel.force(true);
                }
                return new MessageJournal(file, claim, channel, options, 0, Optional.empty());
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            OPEN_FOR_WRITING.remove(claim);
            throw e;
        }
    }

    /**
     * Continues an existing journal after reading it through: a corrupt record throws JournalCorruptException, and a
     * torn last record throws {@link TornJournalException}, leaving the file as it was.
     */
    public static MessageJournal openForAppend(Path file, Options options) throws IOException {
        return open(file, options, false);
    }

    /**
     * Like {@link #openForAppend} but cuts off a torn last record, the one change this class ever makes to bytes
     * already in the file; {@link #droppedTornTail()} then says what was dropped.
     */
    public static MessageJournal openForAppendTruncatingTornTail(Path file, Options options) throws IOException {
        return open(file, options, true);
    }

    private static MessageJournal open(Path file, Options options, boolean truncateTornTail) throws IOException {
        Path claim = claim(file);
        try {
            long lastSeq = -1;
            Optional<TornTail> tornTail;
            try (JournalReader reader = JournalReader.open(file)) {
                while (reader.hasNext()) {
                    lastSeq = reader.next().seq();
                }
                tornTail = reader.tornTail();
            }
            if (tornTail.isPresent() && !truncateTornTail) {
                throw new TornJournalException(file, tornTail.get());
            }
            FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            try {
                if (tornTail.isPresent()) {
                    channel.truncate(tornTail.get().offset());
                    if (options.fsync()) {
                        channel.force(true);
                    }
                }
                return new MessageJournal(file, claim, channel, options, lastSeq + 1, tornTail);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            OPEN_FOR_WRITING.remove(claim);
            throw e;
        }
    }

    /** Two writers appending to one file would interleave their records; the second is refused. */
    private static Path claim(Path file) throws IOException {
        Path absolute = file.toAbsolutePath();
        Path claim = absolute.getParent().toRealPath().resolve(absolute.getFileName());
        if (!OPEN_FOR_WRITING.add(claim)) {
            throw new IOException(file + " is already open for writing by another MessageJournal");
        }
        return claim;
    }

    /** Records {@code message} under the next seq and the current wall-clock time; returns the recorded entry. */
    public synchronized JournalEntry append(String sender, String recipient, PipelineMessage message) throws IOException {
        requireWritable();
        JournalEntry entry = new JournalEntry(nextSeq, epochNanos(Instant.now()), sender, recipient, message);
        byte[] payload = MessageSerializer.entryToBytes(entry);
        if (payload.length > JournalFormat.MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("a " + message.getClass().getSimpleName() + " entry of " + payload.length
                    + " bytes exceeds the journal's limit of " + JournalFormat.MAX_PAYLOAD_BYTES);
        }
        byte[] record = JournalFormat.record(payload);
        pending.add(ByteBuffer.wrap(record));
        pendingBytes += record.length;
        nextSeq++;
        if (pending.size() >= options.flushEveryRecords() || pendingBytes >= FLUSH_BYTES) {
            flush();
        }
        return entry;
    }

    /** Writes every pending record (and forces them to the device if the options say fsync). */
    public synchronized void flush() throws IOException {
        requireWritable();
        try {
            ByteBuffer[] buffers = pending.toArray(ByteBuffer[]::new);
            long left = pendingBytes;
            while (left > 0) {
                left -= channel.write(buffers);
            }
            if (options.fsync()) {
                channel.force(false);
            }
        } catch (IOException e) {
            writeFailure = e;
            throw e;
        }
        pending.clear();
        pendingBytes = 0;
    }

    /** Flushes and closes; closing again does nothing. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        try {
            if (writeFailure == null) {
                flush();
            }
        } finally {
            closed = true;
            try {
                channel.close();
            } finally {
                OPEN_FOR_WRITING.remove(claim);
            }
        }
    }

    public Path file() {
        return file;
    }

    /** The torn record that {@link #openForAppendTruncatingTornTail} cut off, if it cut one. */
    public Optional<TornTail> droppedTornTail() {
        return droppedTornTail;
    }

    private void requireWritable() throws IOException {
        if (closed) {
            throw new IllegalStateException("journal " + file + " is closed");
        }
        if (writeFailure != null) {
            throw new IOException("journal " + file + " failed to write earlier, so its tail may be torn", writeFailure);
        }
    }

    private static long epochNanos(Instant instant) {
        return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000_000L), instant.getNano());
    }
}
