package io.pgolf.deploy;

import io.pgolf.actors.BatchCounter;
import io.pgolf.actors.DataLoaderActor;
import io.pgolf.actors.Journaling;
import io.pgolf.actors.PipelineSystem;
import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.bytes.UnigramBaseline;
import io.pgolf.data.loader.MicroBatchShape;
import io.pgolf.data.loader.TrainBatchLoader;
import io.pgolf.data.shard.Shards;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.protocol.JournalReadResult;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.Tokens;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code pgolf demo}: the pipeline as far as it exists, on the corpus and tokenizer shipped inside pgolf, so that a
 * fresh machine needs nothing else. Writes everything under one run folder and ends with a table of results.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the pipeline on the embedded demo corpus (1,250 documents, vocab 1024) and print its results.")
public final class DemoCommand implements Callable<Integer> {
    private static final String RESOURCES = "/io/pgolf/demo/";
    private static final int VAL_DOCS = 250;
    private static final int SHARD_TOKENS = 1_000_000;
    private static final int SEQ_LEN = 256;
    private static final int BATCH_TOKENS = 8 * 16 * SEQ_LEN;

    @Spec
    CommandSpec spec;

    @Option(names = "--out", description = "run folder (default: runs/demo-<date-time>)")
    Path out;

    @Option(names = "--batches", defaultValue = "200", description = "training micro-batches to pull through the DataLoader actor (default ${DEFAULT-VALUE})")
    int batches;

    @Option(names = "--workers", description = "tokenizer workers (default: the number of cores)")
    Integer workers;

    @Override
    public Integer call() throws Exception {
        Path run = out != null ? out : Path.of("runs", "demo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Path input = Files.createDirectories(run.resolve("input"));
        Path corpus = extract("corpus.jsonl.xz", input);
        Path tokenizer = extract("fineweb_1024_bpe.model", input);
        Path data = run.resolve("data");
        PrintWriter console = spec.commandLine().getOut();
        console.printf("pgolf demo: run folder %s%n", run);
        console.flush();

        PrepareCommand.Prepared prepared = PrepareCommand.prepare(corpus, tokenizer, Optional.empty(), data, VAL_DOCS, SHARD_TOKENS,
                workers != null ? workers : Runtime.getRuntime().availableProcessors());

        SentencePieceModel model = SentencePieceModel.load(tokenizer);
        ByteTables tables = ByteTables.of(model, model.vocabSize());
        Tokens val = Shards.validationTokens(data, SEQ_LEN);
        BitsPerByte.Totals unigram = UnigramBaseline.fit(Shards.list(data, "train"), model.vocabSize()).score(val, tables);

        Path journalFile = run.resolve("journal.pgj");
        long start = System.nanoTime();
        BatchCounter.Count count = pullBatches(data, journalFile);
        double loaderSeconds = (System.nanoTime() - start) / 1e9;
        JournalReadResult journal = JournalReader.readAll(journalFile);

        console.printf(Locale.ROOT, "%n%-18s %s%n", "stage", "result");
        console.printf(Locale.ROOT, "%-18s %,d docs, %.2f MB text -> %,d val + %,d train tokens in %d shards (%.1f s, %.2f MB/s)%n",
                "prepare", prepared.documents(), prepared.textBytes() / 1e6, prepared.valTokens(), prepared.trainTokens(),
                prepared.shards(), prepared.seconds(), prepared.textBytes() / 1e6 / prepared.seconds());
        console.printf(Locale.ROOT, "%-18s %,d scored val tokens, %,d bytes (%.3f bytes/token)%n",
                "byte accounting", unigram.tokens(), unigram.bytes(), (double) unigram.bytes() / unigram.tokens());
        console.printf(Locale.ROOT, "%-18s val_loss %.4f  val_bpb %.4f%n", "unigram baseline", unigram.meanLoss(), unigram.bitsPerByte());
        console.printf(Locale.ROOT, "%-18s %,d batches of %d x %d tokens on demand: %,.0f tokens/s; journal %s: %,d messages, %s%n",
                "data loader", count.batches(), BATCH_TOKENS / 8 / SEQ_LEN, SEQ_LEN, count.tokens() / loaderSeconds,
                journalFile.getFileName(), journal.entries().size(), journal.complete() ? "complete" : "TORN: " + journal.tornTail().orElseThrow());
        console.println("Training, quantization and evaluation join this pipeline in the next issues.");
        console.flush();
        return 0;
    }

    private BatchCounter.Count pullBatches(Path data, Path journalFile) throws Exception {
        MicroBatchShape shape = MicroBatchShape.of(BATCH_TOKENS, 1, SEQ_LEN);
        TrainBatchLoader loader = TrainBatchLoader.open(data, 0, shape);
        CompletableFuture<BatchCounter.Count> done = new CompletableFuture<>();
        ActorSystem<Void> system = PipelineSystem.create(Behaviors.empty(), "demo", Map.of());
        try (MessageJournal journal = MessageJournal.create(journalFile, MessageJournal.Options.DEFAULT)) {
            ActorRef<DataLoaderActor.Command> loaderActor = system.systemActorOf(DataLoaderActor.create(loader), "data-loader",
                    DispatcherSelector.blocking());
            system.systemActorOf(Journaling.wrap(BatchCounter.create(loaderActor, batches, 4, done), journal, "data-loader"),
                    "trainer", org.apache.pekko.actor.typed.Props.empty());
            return done.get(10, TimeUnit.MINUTES);
        } finally {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get(1, TimeUnit.MINUTES);
        }
    }

    private static Path extract(String name, Path dir) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = DemoCommand.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("embedded demo file " + RESOURCES + name + " is missing from the pgolf jar");
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }
}
