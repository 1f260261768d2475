package io.pgolf.protocol;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers;
import com.esotericsoftware.kryo.serializers.RecordSerializer;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The Kryo id of every class that may appear in a serialized message or journal entry. The wire carries these ids,
 * never class names, so they are fixed here by hand: never renumber or reuse an id; a new type takes a free one.
 *
 * <p>Kryo's constructor itself claims ids 0..8 for the primitives (and their boxes) and String; String appears below
 * because its serializer is replaced at its own id.
 */
final class WireRegistry {
    /** A class that may be written, the id that stands for it on the wire, and how its instances are written. */
    record WireType(int id, Class<?> type, Supplier<Serializer<?>> serializer) {
    }

    // List.of and List.copyOf return JDK-internal classes that cannot be named; these calls produce them.
    private static final Class<?> LIST_OF_ONE_OR_TWO = List.of(0).getClass();
    private static final Class<?> LIST_OF_ZERO_OR_MORE_THAN_TWO = List.of().getClass();

    static final List<WireType> TYPES = List.of(
            new WireType(1, String.class, ExactStringSerializer::new),
            new WireType(16, Tokens.class, TokensSerializer::new),
            new WireType(17, LIST_OF_ONE_OR_TWO, ImmutableListSerializer::new),
            new WireType(18, LIST_OF_ZERO_OR_MORE_THAN_TWO, ImmutableListSerializer::new),
            record(19, JournalEntry.class),

            record(32, TokenizeBatch.class),
            record(33, TokenizedBatch.class),
            record(34, BatchDemand.class),
            record(35, TrainBatch.class),
            record(36, TrainerProgress.class),
            record(37, ValidationReport.class),
            record(38, TrainingFinished.class),

            record(48, QuantizationDone.class),
            record(49, ArtifactWritten.class),
            record(50, ArtifactRefused.class),

            record(64, TokenSpan.class),
            record(65, ScoredWindow.class),
            record(66, ScoringMethod.class),
            new WireType(67, RunKind.class, () -> new DefaultSerializers.EnumSerializer(RunKind.class)),
            record(68, TttStarted.class),
            record(69, ScoreChunk.class),
            record(70, ChunkScored.class),
            record(71, TrainOnChunk.class),
            record(72, ChunkTrained.class),
            record(73, Rejected.class),
            record(74, TttFinished.class),
            record(75, PrequantTttTrained.class),

            record(80, StageFinished.class),
            new WireType(81, EvaluationMethod.class, () -> new DefaultSerializers.EnumSerializer(EvaluationMethod.class)),
            record(82, Evaluated.class),
            new WireType(83, InputRole.class, () -> new DefaultSerializers.EnumSerializer(InputRole.class)),
            record(84, InputFile.class),
            record(85, RunStarted.class),
            record(86, DataPrepared.class));

    static {
        Set<Integer> ids = new HashSet<>();
        Set<Class<?>> types = new HashSet<>();
        for (WireType t : TYPES) {
            if (!ids.add(t.id()) || !types.add(t.type())) {
                throw new ExceptionInInitializerError("wire id " + t.id() + " or class " + t.type().getName() + " is listed twice");
            }
        }
    }

    private WireRegistry() {
    }

    private static WireType record(int id, Class<? extends Record> type) {
        return new WireType(id, type, RecordSerializer::new);
    }

    /** A Kryo that writes exactly the types above, by id, and refuses every other class. */
    static Kryo newKryo() {
        Kryo kryo = new Kryo();
        kryo.setRegistrationRequired(true);
        kryo.setReferences(false);
        for (WireType t : TYPES) {
            Registration taken = kryo.getRegistration(t.id());
            if (taken != null && taken.getType() != t.type()) {
                throw new IllegalStateException("wire id " + t.id() + " for " + t.type().getName()
                        + " is already Kryo's id for " + taken.getType().getName());
            }
            kryo.register(t.type(), t.serializer().get(), t.id());
        }
        return kryo;
    }
}
