package io.pgolf.actors;

import io.pgolf.config.Compressor;
import io.pgolf.data.artifact.ArchitectureKnobs;
import io.pgolf.data.artifact.ArtifactBudget;
import io.pgolf.data.artifact.ArtifactOverBudgetException;
import io.pgolf.data.artifact.ArtifactWriter;
import io.pgolf.data.artifact.EncodedArtifact;
import io.pgolf.model.quant.QuantizedModel;
import io.pgolf.protocol.ArtifactEvent;
import io.pgolf.protocol.ArtifactRefused;
import io.pgolf.protocol.ArtifactWritten;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The Compressor: serializes a quantized model, shuffles and compresses it into an artifact, and writes the file if
 * model bytes + code bytes fit the budget. It answers each request with {@link ArtifactWritten} (sizes and the time
 * of each stage) or {@link ArtifactRefused} (nothing written). Brotli at quality 11 takes about a minute on a
 * record-size model, so spawn it on a blocking dispatcher.
 */
public final class CompressorActor {
    /**
     * A request; local to the JVM, as it holds the quantized model by reference (only the replies are wire messages).
     *
     * @param architecture what rebuilds the model, stored in the artifact's header
     */
    public record Compress(QuantizedModel model, ArchitectureKnobs architecture, Compressor compressor, Path file,
                           ArtifactBudget budget, ActorRef<ArtifactEvent> replyTo) {
    }

    private CompressorActor() {
    }

    public static Behavior<Compress> create() {
        return Behaviors.receive(Compress.class).onMessage(Compress.class, CompressorActor::compress).build();
    }

    private static Behavior<Compress> compress(Compress request) {
        EncodedArtifact encoded = EncodedArtifact.encode(request.model(), request.architecture(), request.compressor());
        String compressor = request.compressor().name().toLowerCase(Locale.ROOT);
        ArtifactBudget budget = request.budget();
        long start = System.nanoTime();
        try {
            ArtifactWriter.write(request.file(), encoded, budget);
        } catch (ArtifactOverBudgetException e) {
            request.replyTo().tell(new ArtifactRefused(request.file().toString(), compressor, encoded.modelBytes(),
                    budget.codeBytes(), budget.budgetBytes(), e.getMessage()));
            return Behaviors.same();
        }
        request.replyTo().tell(new ArtifactWritten(request.file().toString(), compressor, encoded.modelBytes(),
                budget.codeBytes(), budget.budgetBytes(), encoded.header().modelBytes(), encoded.serializeSeconds(),
                encoded.compressSeconds(), (System.nanoTime() - start) / 1e9));
        return Behaviors.same();
    }
}
