package io.pgolf.protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MessageJournalTest {
    private static final int ENTRIES = 5;

    @TempDir
    Path dir;

    private static PipelineMessage message(int i) {
        List<PipelineMessage> samples = MessageSamples.all();
        return samples.get(i % samples.size());
    }

    private static List<JournalEntry> append(MessageJournal journal, int from, int count) throws IOException {
        List<JournalEntry> written = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            written.add(journal.append("/user/sender-" + i % 3, "/user/recipient-" + i % 2, message(i)));
        }
        return written;
    }

    private List<JournalEntry> writeJournal(Path file, int count) throws IOException {
        try (MessageJournal journal = MessageJournal.create(file, MessageJournal.Options.DEFAULT)) {
            return append(journal, 0, count);
        }
    }

    /** Where each record starts, walking the length fields as the format defines them. */
    private static List<Integer> recordOffsets(byte[] bytes) {
        List<Integer> offsets = new ArrayList<>();
        int offset = JournalFormat.FILE_HEADER_BYTES;
        while (offset < bytes.length) {
            offsets.add(offset);
            offset += JournalFormat.RECORD_HEADER_BYTES + ByteBuffer.wrap(bytes, offset, 4).getInt();
        }
        assertEquals(bytes.length, offset, "records must end exactly at the end of the file");
        return offsets;
    }

    private static void flip(Path file, int position, int mask) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[position] ^= (byte) mask;
        Files.write(file, bytes);
    }

    @Test
    void entriesComeBackEqualAndInOrder() throws IOException {
        Path file = dir.resolve("j.journal");
        List<JournalEntry> written = writeJournal(file, 60);

        JournalReadResult result = JournalReader.readAll(file);
        assertEquals(written, result.entries());
        assertTrue(result.complete());
        for (int i = 1; i < written.size(); i++) {
            assertTrue(written.get(i).seq() > written.get(i - 1).seq());
        }
        try (JournalReader reader = JournalReader.open(file)) {
            assertThrows(IllegalStateException.class, reader::tornTail);
            List<JournalEntry> streamed = new ArrayList<>();
            reader.forEachRemaining(streamed::add);
            assertEquals(written, streamed);
            assertTrue(reader.tornTail().isEmpty());
        }
    }

    @Test
    void anEmptyJournalHasNoEntriesAndIsComplete() throws IOException {
        Path file = dir.resolve("empty.journal");
        MessageJournal.create(file, MessageJournal.Options.DEFAULT).close();
        JournalReadResult result = JournalReader.readAll(file);
        assertEquals(List.of(), result.entries());
        assertTrue(result.complete());
    }

    /** A flipped byte in record 2 of 5, and in the last record, is reported at that record; nothing is skipped. */
    @ParameterizedTest(name = "record {0}, byte {1} ^ {2}")
    @CsvSource({
            "2, 0, 0x80", "2, 1, 0x80", "2, 2, 0x01", "2, 2, 0x80", "2, 3, 0x01", "2, 3, 0x40",
            "2, 4, 0x01", "2, 7, 0x80", "2, 8, 0x01", "2, 9, 0x80", "2, -1, 0x01",
            "4, 0, 0x01", "4, 1, 0x01", "4, 2, 0x01", "4, 3, 0x01", "4, 5, 0x10", "4, 8, 0x01", "4, -1, 0x80"})
    void aFlippedByteIsReportedAsCorruptionOfItsRecord(int record, int byteInRecord, String mask) throws IOException {
        Path file = dir.resolve("flipped.journal");
        writeJournal(file, ENTRIES);
        List<Integer> offsets = recordOffsets(Files.readAllBytes(file));
        int start = offsets.get(record);
        int end = record + 1 < offsets.size() ? offsets.get(record + 1) : (int) Files.size(file);
        int position = byteInRecord >= 0 ? start + byteInRecord : end + byteInRecord;
        flip(file, position, Integer.decode(mask));

        var e = assertThrows(JournalCorruptException.class, () -> JournalReader.readAll(file));
        assertEquals(start, e.offset());
        assertEquals(record, e.recordIndex());
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("offset " + start)
                && e.getMessage().contains("record " + record), e.getMessage());
    }

    @Test
    void aStreamingReaderStopsAtCorruptionAfterTheEntriesBeforeIt() throws IOException {
        Path file = dir.resolve("flipped.journal");
        List<JournalEntry> written = writeJournal(file, ENTRIES);
        int third = recordOffsets(Files.readAllBytes(file)).get(3);
        flip(file, third + JournalFormat.RECORD_HEADER_BYTES + 1, 0x04);
        try (JournalReader reader = JournalReader.open(file)) {
            for (int i = 0; i < 3; i++) {
                assertEquals(written.get(i), reader.next());
            }
            assertThrows(JournalCorruptException.class, reader::hasNext);
            assertThrows(JournalCorruptException.class, reader::next);
        }
    }

    @Test
    void aSeqThatGoesBackIsCorruption() throws IOException {
        Path first = dir.resolve("first.journal");
        Path second = dir.resolve("second.journal");
        writeJournal(first, 3);
        writeJournal(second, 2);
        byte[] a = Files.readAllBytes(first);
        byte[] b = Files.readAllBytes(second);
        byte[] joined = Arrays.copyOf(a, a.length + b.length - JournalFormat.FILE_HEADER_BYTES);
        System.arraycopy(b, JournalFormat.FILE_HEADER_BYTES, joined, a.length, b.length - JournalFormat.FILE_HEADER_BYTES);
        Path file = dir.resolve("joined.journal");
        Files.write(file, joined);

        var e = assertThrows(JournalCorruptException.class, () -> JournalReader.readAll(file));
        assertEquals(3, e.recordIndex());
        assertEquals(a.length, e.offset());
        assertTrue(e.getMessage().contains("seq 0 does not come after the previous seq 2"), e.getMessage());
    }

    /** Cuts inside the last record's header, at its end, and inside its payload. */
    @ParameterizedTest(name = "cut {0} bytes into the last record")
    @ValueSource(ints = {1, 3, 4, 7, 8, 9, -2, -1})
    void aCutInsideTheLastRecordIsATornTail(int cutInRecord) throws IOException {
        Path file = dir.resolve("torn.journal");
        List<JournalEntry> written = writeJournal(file, ENTRIES);
        byte[] bytes = Files.readAllBytes(file);
        int last = recordOffsets(bytes).getLast();
        int cut = cutInRecord > 0 ? last + cutInRecord : bytes.length + cutInRecord;
        Files.write(file, Arrays.copyOf(bytes, cut));

        JournalReadResult result = JournalReader.readAll(file);
        assertEquals(written.subList(0, ENTRIES - 1), result.entries());
        assertFalse(result.complete());
        TornTail tail = result.tornTail().orElseThrow();
        assertEquals(last, tail.offset());
        assertEquals(ENTRIES - 1, tail.recordIndex());
        assertEquals(cut - last, tail.bytesPresent());
        long expected = cut - last < JournalFormat.RECORD_HEADER_BYTES ? JournalFormat.RECORD_HEADER_BYTES : bytes.length - last;
        assertEquals(expected, tail.bytesExpected());
    }

    @Test
    void aCutBetweenRecordsLeavesAWholeShorterJournal() throws IOException {
        Path file = dir.resolve("short.journal");
        List<JournalEntry> written = writeJournal(file, ENTRIES);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, recordOffsets(bytes).getLast()));
        JournalReadResult result = JournalReader.readAll(file);
        assertEquals(written.subList(0, ENTRIES - 1), result.entries());
        assertTrue(result.complete());
    }

    @Test
    void aFileThatIsNotAJournalIsRejectedByName() throws IOException {
        Path file = dir.resolve("j.journal");
        writeJournal(file, 2);
        byte[] good = Files.readAllBytes(file);

        byte[] badMagic = good.clone();
        badMagic[0] = 'X';
        Files.write(file, badMagic);
        var magic = assertThrows(JournalFormatException.class, () -> JournalReader.readAll(file));
        assertTrue(magic.getMessage().startsWith(file.toString()) && magic.getMessage().contains("magic"), magic.getMessage());
        assertThrows(JournalFormatException.class, () -> MessageJournal.openForAppend(file, MessageJournal.Options.DEFAULT));

        byte[] otherVersion = good.clone();
        otherVersion[JournalFormat.MAGIC.length + 3] = 2;
        Files.write(file, otherVersion);
        var version = assertThrows(JournalFormatException.class, () -> JournalReader.readAll(file));
        assertTrue(version.getMessage().startsWith(file.toString()) && version.getMessage().contains("version 2"),
                version.getMessage());

        for (int length : new int[]{0, 5, JournalFormat.FILE_HEADER_BYTES - 1}) {
            Files.write(file, Arrays.copyOf(good, length));
            var shortHeader = assertThrows(JournalFormatException.class, () -> JournalReader.readAll(file));
            assertTrue(shortHeader.getMessage().contains("has " + length + " bytes"), shortHeader.getMessage());
        }
    }

    @Test
    void appendingAfterReopenContinuesTheSeq() throws IOException {
        Path file = dir.resolve("j.journal");
        List<JournalEntry> written = new ArrayList<>(writeJournal(file, ENTRIES));
        try (MessageJournal journal = MessageJournal.openForAppend(file, MessageJournal.Options.DEFAULT)) {
            assertTrue(journal.droppedTornTail().isEmpty());
            written.addAll(append(journal, ENTRIES, 3));
        }
        JournalReadResult result = JournalReader.readAll(file);
        assertEquals(written, result.entries());
        assertEquals(ENTRIES, result.entries().get(ENTRIES).seq());
        assertTrue(result.complete());
    }

    @Test
    void aTornTailIsRefusedUnlessTruncationIsAskedFor() throws IOException {
        Path file = dir.resolve("torn.journal");
        List<JournalEntry> written = writeJournal(file, ENTRIES);
        byte[] bytes = Files.readAllBytes(file);
        byte[] torn = Arrays.copyOf(bytes, bytes.length - 3);
        Files.write(file, torn);

        var refused = assertThrows(TornJournalException.class,
                () -> MessageJournal.openForAppend(file, MessageJournal.Options.DEFAULT));
        assertEquals((long) recordOffsets(bytes).getLast(), refused.tornTail().offset());
        assertTrue(refused.getMessage().contains("openForAppendTruncatingTornTail"), refused.getMessage());
        assertArrayEquals(torn, Files.readAllBytes(file));

        List<JournalEntry> kept = new ArrayList<>(written.subList(0, ENTRIES - 1));
        try (MessageJournal journal = MessageJournal.openForAppendTruncatingTornTail(file, MessageJournal.Options.DEFAULT)) {
            assertEquals(refused.tornTail(), journal.droppedTornTail().orElseThrow());
            kept.addAll(append(journal, 100, 2));
        }
        JournalReadResult result = JournalReader.readAll(file);
        assertEquals(kept, result.entries());
        assertEquals(ENTRIES - 1, result.entries().get(ENTRIES - 1).seq());
        assertTrue(result.complete());
    }

    @Test
    void aCorruptJournalIsNotReopenedAndStaysAsItWas() throws IOException {
        Path file = dir.resolve("bad.journal");
        writeJournal(file, ENTRIES);
        flip(file, recordOffsets(Files.readAllBytes(file)).get(1) + JournalFormat.RECORD_HEADER_BYTES, 0x01);
        byte[] before = Files.readAllBytes(file);
        for (int attempt = 0; attempt < 2; attempt++) {
            assertThrows(JournalCorruptException.class,
                    () -> MessageJournal.openForAppendTruncatingTornTail(file, MessageJournal.Options.DEFAULT));
        }
        assertArrayEquals(before, Files.readAllBytes(file));
    }

    @Test
    void createRefusesAnExistingFile() throws IOException {
        Path file = dir.resolve("j.journal");
        writeJournal(file, 1);
        assertThrows(FileAlreadyExistsException.class, () -> MessageJournal.create(file, MessageJournal.Options.DEFAULT));
        assertEquals(1, JournalReader.readAll(file).entries().size());
    }

    @Test
    void aSecondWriterOnTheSameFileIsRefused() throws IOException {
        Path file = dir.resolve("j.journal");
        try (MessageJournal first = MessageJournal.create(file, MessageJournal.Options.DEFAULT)) {
            first.append("a", "b", new BatchDemand(1));
            var e = assertThrows(IOException.class,
                    () -> MessageJournal.openForAppend(dir.resolve(".").resolve("j.journal"), MessageJournal.Options.DEFAULT));
            assertTrue(e.getMessage().contains("already open for writing"), e.getMessage());
        }
        try (MessageJournal second = MessageJournal.openForAppend(file, MessageJournal.Options.DEFAULT)) {
            assertEquals(1, second.append("a", "b", new BatchDemand(2)).seq());
        }
    }

    @Test
    void recordsWaitInMemoryUntilTheNthAppendOrClose() throws IOException {
        Path file = dir.resolve("j.journal");
        try (MessageJournal journal = MessageJournal.create(file, new MessageJournal.Options(3, true))) {
            append(journal, 0, 2);
            assertEquals(JournalFormat.FILE_HEADER_BYTES, Files.size(file));
            append(journal, 2, 1);
            assertEquals(3, JournalReader.readAll(file).entries().size());
            long afterThree = Files.size(file);
            append(journal, 3, 1);
            assertEquals(afterThree, Files.size(file));
            journal.flush();
            assertEquals(4, JournalReader.readAll(file).entries().size());
            append(journal, 4, 1);
        }
        assertEquals(5, JournalReader.readAll(file).entries().size());
    }

    @Test
    void aClosedJournalRefusesAppends() throws IOException {
        MessageJournal journal = MessageJournal.create(dir.resolve("j.journal"), MessageJournal.Options.DEFAULT);
        journal.close();
        journal.close();
        assertThrows(IllegalStateException.class, () -> journal.append("a", "b", new BatchDemand(1)));
    }

    @Test
    void concurrentAppendersGetDistinctIncreasingSeqs() throws Exception {
        Path file = dir.resolve("j.journal");
        int threads = 4;
        int perThread = 250;
        try (MessageJournal journal = MessageJournal.create(file, new MessageJournal.Options(7, false));
             ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String sender = "/user/sender-" + t;
                jobs.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        journal.append(sender, "/user/sink", new BatchDemand(i + 1));
                    }
                    return null;
                }));
            }
            for (Future<?> job : jobs) {
                job.get();
            }
        }
        List<JournalEntry> entries = JournalReader.readAll(file).entries();
        assertEquals(threads * perThread, entries.size());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < entries.size(); i++) {
            JournalEntry e = entries.get(i);
            assertEquals(i, e.seq());
            assertTrue(seen.add(e.sender() + "#" + ((BatchDemand) e.message()).count()));
        }
    }
}
