package io.pgolf.actors;

import io.pgolf.data.loader.MicroBatchShape;
import io.pgolf.data.loader.TrainBatchLoader;
import io.pgolf.data.shard.ShardWriter;
import io.pgolf.data.shard.Shards;
import io.pgolf.protocol.BatchDemand;
import io.pgolf.protocol.TrainBatch;
import org.apache.pekko.actor.testkit.typed.FishingOutcome;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class DataLoaderActorTest {
    private static final MicroBatchShape SHAPE = new MicroBatchShape(2, 4, 3, 16);
    private static final int RANK = 1;
    private static final Duration QUIET = Duration.ofMillis(300);

    private static final ActorTestKit TEST_KIT = ActorTestKit.create();

    @TempDir
    static Path dataset;

    @BeforeAll
    static void writeShards() throws IOException {
        Random random = new Random(11);
        int[] counts = {400, 250, 90, 1200};
        for (int shard = 0; shard < counts.length; shard++) {
            char[] tokens = new char[counts[shard]];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = (char) random.nextInt(8192);
            }
            ShardWriter.write(dataset.resolve(Shards.fileName("train", shard)), tokens, tokens.length);
        }
    }

    @AfterAll
    static void shutDown() {
        TEST_KIT.shutdownTestKit();
    }

    @Test
    void slowConsumerGetsExactlyWhatItDemands() throws IOException {
        ActorRef<DataLoaderActor.Command> loader = spawnLoader();
        TestProbe<TrainBatch> consumer = TEST_KIT.createTestProbe(TrainBatch.class);
        loader.tell(new DataLoaderActor.Subscribe(consumer.ref()));
        consumer.expectNoMessage(QUIET);
        for (long index = 0; index < 3; index++) {
            loader.tell(new DataLoaderActor.Demand(new BatchDemand(1)));
            assertEquals(index, consumer.receiveMessage().index());
            consumer.expectNoMessage(QUIET);
        }
    }

    @Test
    void demandOfFiveGetsFiveInOrderMatchingTheLoaderItself() throws IOException {
        ActorRef<DataLoaderActor.Command> loader = spawnLoader();
        TestProbe<TrainBatch> consumer = TEST_KIT.createTestProbe(TrainBatch.class);
        loader.tell(new DataLoaderActor.Subscribe(consumer.ref()));
        loader.tell(new DataLoaderActor.Demand(new BatchDemand(5)));
        List<TrainBatch> received = consumer.receiveSeveralMessages(5);
        consumer.expectNoMessage(QUIET);
        assertEquals(directBatches(5), received);
        for (int i = 0; i < 5; i++) {
            assertEquals(i, received.get(i).index());
            assertEquals(RANK, received.get(i).rank());
        }
    }

    @Test
    void demandsAddUp() throws IOException {
        ActorRef<DataLoaderActor.Command> loader = spawnLoader();
        TestProbe<TrainBatch> consumer = TEST_KIT.createTestProbe(TrainBatch.class);
        loader.tell(new DataLoaderActor.Subscribe(consumer.ref()));
        loader.tell(new DataLoaderActor.Demand(new BatchDemand(2)));
        loader.tell(new DataLoaderActor.Demand(new BatchDemand(3)));
        assertEquals(directBatches(5), consumer.receiveSeveralMessages(5));
        consumer.expectNoMessage(QUIET);
    }

    @Test
    void resetRestartsTheSequenceEvenDuringAHugeDemand() throws IOException {
        ActorRef<DataLoaderActor.Command> loader = spawnLoader();
        // One probe receives batches and the reset reply, so their order is the order the actor sent them in.
        TestProbe<Object> consumer = TEST_KIT.createTestProbe(Object.class);
        loader.tell(new DataLoaderActor.Subscribe(consumer.ref().narrow()));
        loader.tell(new DataLoaderActor.Demand(new BatchDemand(Integer.MAX_VALUE)));
        assertEquals(0, assertInstanceOf(TrainBatch.class, consumer.receiveMessage()).index());
        loader.tell(new DataLoaderActor.Reset(consumer.ref().narrow()));

        List<Long> before = new ArrayList<>();
        consumer.fishForMessage(Duration.ofSeconds(10), message -> switch (message) {
            case TrainBatch batch -> collect(before, batch);
            case DataLoaderActor.ResetDone done -> done.rank() == RANK ? FishingOutcomes.complete()
                    : FishingOutcomes.fail("reset reply from rank " + done.rank());
            default -> FishingOutcomes.fail("unexpected " + message);
        });
        consumer.expectNoMessage(QUIET);
        for (int i = 0; i < before.size(); i++) {
            assertEquals(i + 1, before.get(i), "batches before the reset arrive in order");
        }

        loader.tell(new DataLoaderActor.Demand(new BatchDemand(4)));
        List<TrainBatch> after = consumer.receiveSeveralMessages(4).stream().map(TrainBatch.class::cast).toList();
        assertEquals(directBatches(4), after);
        consumer.expectNoMessage(QUIET);
    }

    @Test
    void demandBeforeSubscribeIsIgnoredAndANewSubscriberTakesOver() throws IOException {
        ActorRef<DataLoaderActor.Command> loader = spawnLoader();
        TestProbe<TrainBatch> first = TEST_KIT.createTestProbe(TrainBatch.class);
        TestProbe<TrainBatch> second = TEST_KIT.createTestProbe(TrainBatch.class);
        loader.tell(new DataLoaderActor.Demand(new BatchDemand(2)));
        loader.tell(new DataLoaderActor.Subscribe(first.ref()));
        first.expectNoMessage(QUIET);
        loader.tell(new DataLoaderActor.Demand(new BatchDemand(1)));
        assertEquals(0, first.receiveMessage().index());
        loader.tell(new DataLoaderActor.Subscribe(second.ref()));
        loader.tell(new DataLoaderActor.Demand(new BatchDemand(1)));
        TrainBatch next = second.receiveMessage();
        assertEquals(1, next.index());
        assertEquals(directBatches(2).get(1), next);
        first.expectNoMessage(QUIET);
        second.expectNoMessage(QUIET);
    }

    private static FishingOutcome collect(List<Long> indices, TrainBatch batch) {
        indices.add(batch.index());
        return FishingOutcomes.continueAndIgnore();
    }

    private static ActorRef<DataLoaderActor.Command> spawnLoader() throws IOException {
        return TEST_KIT.spawn(DataLoaderActor.create(TrainBatchLoader.open(dataset, RANK, SHAPE)));
    }

    private static List<TrainBatch> directBatches(int count) throws IOException {
        try (TrainBatchLoader direct = TrainBatchLoader.open(dataset, RANK, SHAPE)) {
            List<TrainBatch> batches = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                batches.add(direct.next());
            }
            return batches;
        }
    }
}
