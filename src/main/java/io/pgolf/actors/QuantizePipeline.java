package io.pgolf.actors;

import io.pgolf.config.Compressor;
import io.pgolf.data.artifact.ArchitectureKnobs;
import io.pgolf.data.artifact.ArtifactBudget;
import io.pgolf.model.Gpt;
import io.pgolf.model.quant.ModelQuantizer;
import io.pgolf.protocol.ArtifactEvent;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.QuantizationDone;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Turns trained weights into an artifact as actors: DataLoader -> Quantizer (Hessians, GPTQ) -> Compressor, with a
 * monitor that logs and journals every {@link ArtifactEvent}. A guardian hands the Quantizer's model to the
 * Compressor and ends the run with the failure of any actor. The Quantizer journals its calibration batches.
 */
public final class QuantizePipeline {
    private static final String QUANTIZER_DISPATCHER = "pgolf.dispatchers.trainer";

    /**
     * Everything the run needs; the caller keeps the model.
     *
     * @param batches      the Quantizer's DataLoader, an actor the pipeline spawns (and that owns what it reads)
     * @param architecture what the artifact's header records to rebuild the model
     * @param file         where the artifact goes
     */
    public record Settings(Behavior<DataLoaderActor.Command> batches, Gpt model, ModelQuantizer quantizer, int calibrationBatches,
                           ArchitectureKnobs architecture, Compressor compressor, Path file, ArtifactBudget budget,
                           MessageJournal journal, Consumer<String> log) {
    }

    /** GPTQ's summary and the artifact's fate: {@code ArtifactWritten} or {@code ArtifactRefused}. */
    public record Outcome(QuantizationDone quantization, ArtifactEvent artifact) {
    }

    private QuantizePipeline() {
    }

    public static Outcome run(Settings settings) throws InterruptedException {
        return PipelineSystem.runUntilDone(outcome -> supervisor(settings, outcome), "quantize", Map.of(),
                settings.log());
    }

    /**
     * The quantization as a stage of a run: DataLoader, Quantizer, Compressor and the monitor; the supervisor hands the
     * Quantizer's model to the Compressor, completes {@code finished} once the monitor has the artifact's fate (or
     * with the failure of any of them) and stops.
     */
    public static Behavior<QuantizerActor.Quantized> supervisor(Settings s, CompletableFuture<Outcome> finished) {
        return Behaviors.setup(context -> {
            CompletableFuture<QuantizationDone> quantized = new CompletableFuture<>();
            CompletableFuture<ArtifactEvent> artifact = new CompletableFuture<>();
            ActorRef<DataLoaderActor.Command> loader = context.spawn(s.batches(), "data-loader",
                    DispatcherSelector.blocking());
            ActorRef<ArtifactEvent> monitor = context.spawn(Journaling.wrap(ArtifactMonitor.create(s.log(), artifact),
                    s.journal(), "quantizer"), "monitor");
            ActorRef<QuantizerActor.Command> quantizer = context.spawn(QuantizerActor.create(s.model(), s.quantizer(),
                    s.calibrationBatches(), loader, context.getSelf(), s.journal()), "quantizer",
                    DispatcherSelector.fromConfig(QUANTIZER_DISPATCHER));
            ActorRef<CompressorActor.Compress> compressor = context.spawn(CompressorActor.create(), "compressor",
                    DispatcherSelector.blocking());
            context.watch(loader);
            context.watch(quantizer);
            context.watch(compressor);
            context.watch(monitor);
            return Behaviors.receive(QuantizerActor.Quantized.class)
                    .onMessage(QuantizerActor.Quantized.class, done -> {
                        quantized.complete(done.summary());
                        monitor.tell(done.summary());
                        compressor.tell(new CompressorActor.Compress(done.model(), s.architecture(), s.compressor(),
                                s.file(), s.budget(), monitor));
                        return Behaviors.same();
                    })
                    .onSignal(ChildFailed.class, failed -> {
                        finished.completeExceptionally(PipelineSystem.failureOf(failed));
                        return Behaviors.stopped();
                    })
                    // The monitor stops once it has the artifact's fate.
                    .onSignal(Terminated.class, stopped -> {
                        if (!stopped.getRef().equals(monitor)) {
                            return Behaviors.same();
                        }
                        if (artifact.isDone()) {
                            finished.complete(new Outcome(quantized.getNow(null), artifact.join()));
                        } else {
                            finished.completeExceptionally(new IllegalStateException("the artifact monitor stopped early"));
                        }
                        return Behaviors.stopped();
                    })
                    .build();
        });
    }
}
