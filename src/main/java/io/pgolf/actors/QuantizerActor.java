package io.pgolf.actors;

import io.pgolf.model.Gpt;
import io.pgolf.model.quant.HessianCollector;
import io.pgolf.model.quant.Hessians;
import io.pgolf.model.quant.ModelQuantizer;
import io.pgolf.model.quant.QuantizedModel;
import io.pgolf.model.quant.QuantizedTensor;
import io.pgolf.protocol.BatchDemand;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.QuantizationDone;
import io.pgolf.protocol.TrainBatch;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

import java.util.ArrayList;
import java.util.List;

/**
 * The Quantizer (STACK §5): asks its DataLoader for GPTQ_CALIBRATION_BATCHES training batches, collects the
 * Hessians of the model's GPTQ weights over them (with the model's depth loop as the caller set it; the reference
 * calibrates with it on), quantizes every tensor, replies {@link Quantized} and stops. Every batch it receives is
 * journaled (as sent by its DataLoader). Calibration and GPTQ are minutes of blocking compute: spawn it on a
 * dispatcher of its own.
 */
public final class QuantizerActor extends AbstractBehavior<QuantizerActor.Command> {
    /** What the actor receives: its calibration batches. */
    public sealed interface Command permits BatchArrived {
    }

    record BatchArrived(TrainBatch batch) implements Command {
    }

    /**
     * The reply; local to the JVM, as it holds the quantized model by reference. Its {@code summary} is the wire
     * message that reports it.
     */
    public record Quantized(QuantizedModel model, QuantizationDone summary) {
    }

    private final Gpt model;
    private final ModelQuantizer quantizer;
    private final int calibrationBatches;
    private final ActorRef<Quantized> replyTo;
    private final List<TrainBatch> batches = new ArrayList<>();

    private QuantizerActor(ActorContext<Command> context, Gpt model, ModelQuantizer quantizer, int calibrationBatches,
                           ActorRef<DataLoaderActor.Command> loader, ActorRef<Quantized> replyTo) {
        super(context);
        this.model = model;
        this.quantizer = quantizer;
        this.calibrationBatches = calibrationBatches;
        this.replyTo = replyTo;
        loader.tell(new DataLoaderActor.Subscribe(context.messageAdapter(TrainBatch.class, BatchArrived::new)));
        loader.tell(new DataLoaderActor.Demand(new BatchDemand(calibrationBatches)));
    }

    /**
     * The caller keeps ownership of {@code model}; the actor only reads its weights.
     *
     * @param journal receives every batch the actor gets from {@code loader}
     */
    public static Behavior<Command> create(Gpt model, ModelQuantizer quantizer, int calibrationBatches,
                                           ActorRef<DataLoaderActor.Command> loader, ActorRef<Quantized> replyTo,
                                           MessageJournal journal) {
        if (calibrationBatches <= 0) {
            throw new IllegalArgumentException("GPTQ needs at least one calibration batch, got " + calibrationBatches);
        }
        Behavior<Command> quantizing = Behaviors.setup(context -> new QuantizerActor(context, model, quantizer,
                calibrationBatches, loader, replyTo));
        return Journaling.wrap(quantizing, journal, loader.path().name(),
                command -> command instanceof BatchArrived arrived ? arrived.batch() : null);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder().onMessage(BatchArrived.class, this::onBatch).build();
    }

    private Behavior<Command> onBatch(BatchArrived arrived) {
        batches.add(arrived.batch());
        if (batches.size() < calibrationBatches) {
            return this;
        }
        long start = System.nanoTime();
        Hessians hessians = HessianCollector.collect(model, batches, ModelQuantizer.gptqWeights(model.parameters()));
        batches.clear();
        long collected = System.nanoTime();
        QuantizedModel quantized = quantizer.quantize(model.parameters(), hessians);
        long done = System.nanoTime();
        int gptq = (int) quantized.tensors().stream().filter(t -> t instanceof QuantizedTensor.Codes).count();
        replyTo.tell(new Quantized(quantized, new QuantizationDone(gptq, quantized.tensors().size() - gptq,
                model.parameters().elementCount(), hessians.batches(), (collected - start) / 1e9, (done - collected) / 1e9)));
        return Behaviors.stopped();
    }
}
