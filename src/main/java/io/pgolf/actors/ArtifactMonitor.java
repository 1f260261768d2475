package io.pgolf.actors;

import io.pgolf.protocol.ArtifactEvent;
import io.pgolf.protocol.ArtifactRefused;
import io.pgolf.protocol.ArtifactWritten;
import io.pgolf.protocol.QuantizationDone;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** Logs the quantization stage's events and completes {@code finished} with the artifact's fate. */
public final class ArtifactMonitor {
    private ArtifactMonitor() {
    }

    public static Behavior<ArtifactEvent> create(Consumer<String> log, CompletableFuture<ArtifactEvent> finished) {
        return Behaviors.receiveMessage(event -> switch (event) {
            case QuantizationDone q -> {
                log.accept(String.format(Locale.ROOT, "GPTQ: %d matrices quantized, %d tensors kept as float16 "
                                + "(%,d parameters); Hessians over %d batches %.1f s, GPTQ %.1f s",
                        q.gptqTensors(), q.float16Tensors(), q.parameters(), q.calibrationBatches(), q.hessianSeconds(),
                        q.gptqSeconds()));
                yield Behaviors.same();
            }
            case ArtifactWritten w -> {
                log.accept(String.format(Locale.ROOT, "artifact %s: %,d model bytes (%s) + %,d code bytes = %,d of %,d "
                                + "budget; serialize %.2f s, compress %.1f s, write %.2f s", w.file(), w.modelBytes(),
                        w.compressor(), w.codeBytes(), w.totalBytes(), w.budgetBytes(), w.serializeSeconds(),
                        w.compressSeconds(), w.writeSeconds()));
                finished.complete(w);
                yield Behaviors.stopped();
            }
            case ArtifactRefused r -> {
                log.accept(r.reason());
                finished.complete(r);
                yield Behaviors.stopped();
            }
        });
    }
}
