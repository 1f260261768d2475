package io.pgolf.actors;

import io.pgolf.data.corpus.Document;
import io.pgolf.data.corpus.JsonlDocuments;
import io.pgolf.data.corpus.ShardedExport;
import io.pgolf.protocol.TokenizeBatch;
import io.pgolf.protocol.TokenizedBatch;
import io.pgolf.protocol.Tokens;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.ObjLongConsumer;

/**
 * Corpus to shards: documents stream from the JSONL file through a pool of {@link TokenizerActor} workers into
 * {@link ShardedExport}. Backpressure bounds the batches in flight; {@code mapAsync} hands results on in corpus order
 * whatever order the workers finish in.
 */
public final class PreparePipeline {
    /** What a pipeline run needs. {@code batchBytes} is the text size a worker gets per request. */
    public record Settings(Path docs, Function<String, int[]> encoder, ShardedExport export, int workers, int batchBytes) {
    }

    /** Totals of a finished run. */
    public record Totals(long documents, long textBytes) {
    }

    private static final Duration BATCH_TIMEOUT = Duration.ofMinutes(10);
    private static final String TOKENIZER_THREADS = TokenizerActor.DISPATCHER + ".thread-pool-executor.fixed-pool-size";

    private PreparePipeline() {
    }

    /**
     * Runs to completion on the calling thread's behalf, in an actor system of its own; {@code progress} is called
     * after each batch with the fraction of the file read and the text bytes tokenized so far.
     */
    public static Totals run(Settings settings, ObjLongConsumer<Double> progress) {
        ActorSystem<Void> system = PipelineSystem.create(Behaviors.empty(), "prepare", systemSettings(settings.workers()));
        try {
            return run(system, settings, progress);
        } finally {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().join();
        }
    }

    /** The settings an actor system needs for {@link #run(ActorSystem, Settings, ObjLongConsumer)}: a tokenizer thread per worker. */
    public static Map<String, Object> systemSettings(int workers) {
        return Map.of(TOKENIZER_THREADS, workers);
    }

    /**
     * Like {@link #run(Settings, ObjLongConsumer)}, in an actor system created with {@link #systemSettings}, from a
     * thread outside the default dispatcher (a task stage's). The workers stay, idle, until the system terminates.
     */
    public static Totals run(ActorSystem<?> system, Settings settings, ObjLongConsumer<Double> progress) {
        try (JsonlDocuments documents = JsonlDocuments.open(settings.docs())) {
            ActorRef<TokenizerActor.Tokenize> tokenizer =
                    system.systemActorOf(TokenizerActor.pool(settings.workers(), settings.encoder()), "tokenizer",
                            org.apache.pekko.actor.typed.Props.empty());
            long[] textBytes = {0};
            CompletionStage<Done> done = Source.fromIterator(() -> documents)
                    .groupedWeighted(settings.batchBytes(), d -> (long) d.text().length() + 1)
                    .zipWithIndex()
                    .map(p -> new Pending(batchOf(p.first(), p.second()), documents.fractionRead()))
                    .withAttributes(ActorAttributes.dispatcher("pekko.actor.default-blocking-io-dispatcher"))
                    .mapAsync(2 * settings.workers(), pending -> AskPattern.<TokenizerActor.Tokenize, TokenizedBatch>askWithStatus(
                                    tokenizer, replyTo -> new TokenizerActor.Tokenize(pending.batch(), replyTo), BATCH_TIMEOUT, system.scheduler())
                            .thenApply(result -> new Tokenized(result, pending.fractionRead())))
                    .runWith(Sink.<Tokenized>foreach(d -> {
                        for (Tokens doc : d.result().docs()) {
                            settings.export().add(doc.toIntArray());
                        }
                        textBytes[0] += d.result().utf8Bytes();
                        progress.accept(d.fractionRead(), textBytes[0]);
                    }).withAttributes(ActorAttributes.dispatcher("pekko.actor.default-blocking-io-dispatcher")), system);
            done.toCompletableFuture().join();
            settings.export().finish();
            return new Totals(settings.export().documents(), textBytes[0]);
        } catch (CompletionException e) {
            throw unwrap(e);
        }
    }

    /** A batch on its way to a worker, with how far into the file the reader was when it was cut. */
    private record Pending(TokenizeBatch batch, double fractionRead) {
    }

    /** A worker's answer, with the reader's position of its batch, so progress follows what was written. */
    private record Tokenized(TokenizedBatch result, double fractionRead) {
    }

    private static TokenizeBatch batchOf(List<Document> docs, long batchSeq) {
        List<String> texts = new ArrayList<>(docs.size());
        for (Document d : docs) {
            texts.add(d.text());
        }
        return new TokenizeBatch(batchSeq, docs.getFirst().index(), texts);
    }

    private static RuntimeException unwrap(CompletionException e) {
        Throwable cause = e.getCause();
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    }
}
