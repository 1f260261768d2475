package io.pgolf.protocol;

import com.esotericsoftware.kryo.Kryo;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class MessageSerializerTest {

    /** Every concrete class reachable through PipelineMessage's permits (records are the leaves). */
    private static Set<Class<?>> permittedMessageClasses() {
        Set<Class<?>> leaves = new HashSet<>();
        Deque<Class<?>> pending = new ArrayDeque<>(List.of(PipelineMessage.class));
        while (!pending.isEmpty()) {
            Class<?> c = pending.pop();
            if (c.isSealed()) {
                pending.addAll(List.of(c.getPermittedSubclasses()));
            } else {
                leaves.add(c);
            }
        }
        return leaves;
    }

    private static Set<Class<?>> registeredClasses() {
        return WireRegistry.TYPES.stream().map(WireRegistry.WireType::type).collect(Collectors.toSet());
    }

    @Test
    void everyPermittedMessageIsARegisteredRecord() {
        Set<Class<?>> messages = permittedMessageClasses();
        assertTrue(messages.size() >= 4, "found " + messages);
        for (Class<?> c : messages) {
            assertTrue(c.isRecord(), c.getName() + " is a PipelineMessage but not a record");
            assertTrue(registeredClasses().contains(c), c.getName() + " has no id in WireRegistry.TYPES");
        }
    }

    @Test
    void kryoUsesExactlyTheTableIds() {
        Kryo kryo = WireRegistry.newKryo();
        Set<Integer> ids = new HashSet<>();
        for (WireRegistry.WireType t : WireRegistry.TYPES) {
            assertTrue(ids.add(t.id()), "id " + t.id() + " listed twice");
            assertEquals(t.id(), kryo.getRegistration(t.type()).getId(), t.type().getName());
        }
        assertTrue(kryo.isRegistrationRequired());
    }

    @Test
    void samplesCoverEveryMessageType() {
        Set<Class<?>> sampled = MessageSamples.all().stream().map(Object::getClass).collect(Collectors.toSet());
        assertEquals(permittedMessageClasses(), sampled);
    }

    @Test
    void everySampleRoundTripsToAnEqualMessage() {
        for (PipelineMessage message : MessageSamples.all()) {
            PipelineMessage decoded = MessageSerializer.fromBytes(MessageSerializer.toBytes(message));
            assertEquals(message, decoded);
            assertEquals(message.getClass(), decoded.getClass());
        }
    }

    @Test
    void decodedListsAreUnmodifiable() {
        var batch = (TokenizedBatch) MessageSerializer.fromBytes(MessageSerializer.toBytes(
                new TokenizedBatch(1, 2, List.of(Tokens.of(1), Tokens.of(2), Tokens.of(3)), 4)));
        assertThrows(UnsupportedOperationException.class, () -> batch.docs().add(Tokens.of(4)));
        var texts = (TokenizeBatch) MessageSerializer.fromBytes(MessageSerializer.toBytes(
                new TokenizeBatch(1, 2, new ArrayList<>(List.of("a")))));
        assertThrows(UnsupportedOperationException.class, () -> texts.texts().set(0, "b"));
    }

    @Test
    void stringsComeBackCodeUnitForCodeUnit() {
        List<String> texts = List.of("\uD800", "a\uDBFF", "\uDC00\uD800", "\uD83D\uDE00", "\uFFFF", "x".repeat(70_000));
        var decoded = (TokenizeBatch) MessageSerializer.fromBytes(MessageSerializer.toBytes(new TokenizeBatch(0, 0, texts)));
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(texts.get(i).toCharArray(), decoded.texts().get(i).toCharArray(), "text " + i);
        }
    }

    @Test
    void noClassNameIsWritten() {
        for (PipelineMessage message : MessageSamples.all()) {
            String bytes = new String(MessageSerializer.toBytes(message), StandardCharsets.ISO_8859_1);
            assertTrue(!bytes.contains("pgolf") && !bytes.contains("java.util"), message.toString());
        }
    }

    @Test
    void journalEntryRoundTrips() {
        var entry = new JournalEntry(7, 1_700_000_000_123_456_789L, "/user/loader", "/user/trainer-0",
                new TrainBatch(1, 0, 1, 2, Tokens.of(3, 4, 5)));
        byte[] bytes = MessageSerializer.entryToBytes(entry);
        assertEquals(entry, MessageSerializer.entryFromBytes(bytes, bytes.length));
        assertEquals(bytes.length, MessageSerializer.entryPrefixLength(bytes, bytes.length));
    }

    @Test
    void everyTruncationIsRejected() {
        for (PipelineMessage message : MessageSamples.all()) {
            byte[] bytes = MessageSerializer.toBytes(message);
            for (int cut = 0; cut < bytes.length; cut++) {
                byte[] prefix = java.util.Arrays.copyOf(bytes, cut);
                assertThrows(MessageDecodeException.class, () -> MessageSerializer.fromBytes(prefix),
                        message + " cut at " + cut);
            }
        }
    }

    @Test
    void trailingBytesAreRejected() {
        byte[] bytes = MessageSerializer.toBytes(new BatchDemand(3));
        byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 1);
        var e = assertThrows(MessageDecodeException.class, () -> MessageSerializer.fromBytes(longer));
        assertTrue(e.getMessage().contains("ends at byte " + bytes.length), e.getMessage());
    }

    @Test
    void unknownClassIdIsRejected() {
        // Kryo writes a class id as varint(id + 2); 122 is no registered id.
        var e = assertThrows(MessageDecodeException.class, () -> MessageSerializer.fromBytes(new byte[]{124, 0, 0}));
        assertTrue(e.getMessage().contains("122"), e.getMessage());
    }

    @Test
    void aNonMessageIsRejected() {
        byte[] bytes = MessageSerializer.entryToBytes(new JournalEntry(0, 0, "a", "b", new BatchDemand(1)));
        byte[] withEntryClassId = new byte[bytes.length + 1];
        withEntryClassId[0] = 19 + 2;
        System.arraycopy(bytes, 0, withEntryClassId, 1, bytes.length);
        var e = assertThrows(MessageDecodeException.class, () -> MessageSerializer.fromBytes(withEntryClassId));
        assertTrue(e.getMessage().contains("not a PipelineMessage"), e.getMessage());
    }

    @Test
    void corruptLengthsFailWithoutAllocatingThem() {
        // The encoding with no texts ends with the list's count; the one with texts shares everything before it.
        byte[] empty = MessageSerializer.toBytes(new TokenizeBatch(1, 2, List.of()));
        byte[] bytes = MessageSerializer.toBytes(new TokenizeBatch(1, 2, List.of("abc", "def", "ghi")));
        int listCount = empty.length - 1;
        assertEquals(3, bytes[listCount]);
        // Count 0x7FFFFFF7: an Object[] that large would not fit in the test JVM's heap.
        byte[] huge = java.util.Arrays.copyOf(bytes, bytes.length + 4);
        System.arraycopy(new byte[]{(byte) 0xF7, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07}, 0, huge, listCount, 5);
        System.arraycopy(bytes, listCount + 1, huge, listCount + 5, bytes.length - listCount - 1);
        var e = assertThrows(MessageDecodeException.class, () -> MessageSerializer.fromBytes(huge));
        assertTrue(e.getMessage().contains("only"), e.getMessage());
    }

    @Test
    void flippedBytesDecodeToAMessageOrFailClearly() {
        for (PipelineMessage message : MessageSamples.all()) {
            byte[] bytes = MessageSerializer.toBytes(message);
            for (int i = 0; i < bytes.length; i++) {
                for (int mask : new int[]{0x01, 0x40, 0x80, 0xFF}) {
                    byte[] flipped = bytes.clone();
                    flipped[i] ^= (byte) mask;
                    try {
                        PipelineMessage decoded = MessageSerializer.fromBytes(flipped);
                        assertNotEquals(null, decoded);
                    } catch (MessageDecodeException expected) {
                        // a clear refusal is the other allowed outcome
                    } catch (Throwable t) {
                        fail(message + " with byte " + i + " ^ " + mask + " threw " + t, t);
                    }
                }
            }
        }
    }

    @Test
    void concurrentCallersGetTheirOwnMessagesBack() throws Exception {
        List<PipelineMessage> samples = MessageSamples.all();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int offset = t;
                jobs.add(pool.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        PipelineMessage m = samples.get((i + offset) % samples.size());
                        assertEquals(m, MessageSerializer.fromBytes(MessageSerializer.toBytes(m)));
                    }
                }));
            }
            for (Future<?> job : jobs) {
                job.get();
            }
        }
    }
}
