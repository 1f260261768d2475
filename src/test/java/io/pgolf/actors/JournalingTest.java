package io.pgolf.actors;

import io.pgolf.protocol.BatchDemand;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.PipelineMessage;
import io.pgolf.protocol.TokenizeBatch;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TrainBatch;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JournalingTest {
    private static final ActorTestKit TEST_KIT = ActorTestKit.create();

    @TempDir
    Path dir;

    /** What the wrapped actor saw: a message, and how many entries the journal file held when it arrived. */
    record Seen(Object message, int journaled) {
    }

    record Envelope(PipelineMessage payload, String note) {
    }

    @AfterAll
    static void shutDown() {
        TEST_KIT.shutdownTestKit();
    }

    private static int entriesIn(Path file) {
        try {
            return JournalReader.readAll(file).entries().size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static <T> Behavior<T> reporting(Path file, ActorRef<Seen> probe) {
        return Behaviors.receiveMessage(message -> {
            probe.tell(new Seen(message, entriesIn(file)));
            return Behaviors.same();
        });
    }

    @Test
    void eachPipelineMessageIsJournaledBeforeTheActorHandlesIt() throws IOException {
        Path file = dir.resolve("actors.journal");
        TestProbe<Seen> probe = TEST_KIT.createTestProbe();
        List<Object> sent = List.of(new BatchDemand(1), "not a pipeline message",
                new TrainBatch(0, 1, 1, 2, Tokens.of(7, 8, 9)), new BatchDemand(2));
        try (MessageJournal journal = MessageJournal.create(file, MessageJournal.Options.DEFAULT)) {
            ActorRef<Object> trainer = TEST_KIT.spawn(
                    Journaling.wrap(JournalingTest.reporting(file, probe.ref()), journal, "/user/loader"), "trainer");
            sent.forEach(trainer::tell);
            assertEquals(new Seen(sent.get(0), 1), probe.receiveMessage());
            assertEquals(new Seen(sent.get(1), 1), probe.receiveMessage());
            assertEquals(new Seen(sent.get(2), 2), probe.receiveMessage());
            assertEquals(new Seen(sent.get(3), 3), probe.receiveMessage());
        }
        List<JournalEntry> entries = JournalReader.readAll(file).entries();
        assertEquals(List.of(sent.get(0), sent.get(2), sent.get(3)), entries.stream().map(JournalEntry::message).toList());
        for (int i = 0; i < entries.size(); i++) {
            assertEquals(i, entries.get(i).seq());
            assertEquals("/user/loader", entries.get(i).sender());
            assertEquals("/user/trainer", entries.get(i).recipient());
        }
    }

    @Test
    void envelopesAreJournaledThroughTheirPayload() throws IOException {
        Path file = dir.resolve("envelopes.journal");
        TestProbe<Seen> probe = TEST_KIT.createTestProbe();
        var batch = new TokenizeBatch(3, 40, List.of("some text"));
        try (MessageJournal journal = MessageJournal.create(file, MessageJournal.Options.DEFAULT)) {
            ActorRef<Envelope> tokenizer = TEST_KIT.spawn(Journaling.wrap(JournalingTest.<Envelope>reporting(file, probe.ref()),
                    journal, "/user/coordinator", Envelope::payload), "tokenizer");
            tokenizer.tell(new Envelope(batch, "first"));
            assertEquals(new Seen(new Envelope(batch, "first"), 1), probe.receiveMessage());
        }
        JournalEntry entry = JournalReader.readAll(file).entries().getFirst();
        assertEquals(batch, entry.message());
        assertEquals("/user/coordinator", entry.sender());
        assertEquals("/user/tokenizer", entry.recipient());
    }

    @Test
    void anActorWhoseMessageCannotBeJournaledStops() throws IOException {
        TestProbe<Seen> probe = TEST_KIT.createTestProbe();
        MessageJournal journal = MessageJournal.create(dir.resolve("closed.journal"), MessageJournal.Options.DEFAULT);
        journal.close();
        ActorRef<Object> actor = TEST_KIT.spawn(
                Journaling.wrap(Behaviors.receiveMessage(m -> Behaviors.same()), journal, "/user/loader"), "unjournaled");
        actor.tell(new BatchDemand(1));
        probe.expectTerminated(actor);
    }
}
