package io.pgolf.deploy;

import io.pgolf.actors.PreparePipeline;
import io.pgolf.config.ConfigOptions;
import io.pgolf.config.DataConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.corpus.ShardPublisher;
import io.pgolf.data.corpus.ShardedExport;
import io.pgolf.data.tokenizer.SentencePieceModel;
import org.apache.pekko.actor.typed.ActorSystem;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import java.util.function.ObjLongConsumer;

/** {@code pgolf prepare}: a JSONL corpus and a SentencePiece model to shards in the challenge's format. */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = "Tokenize a JSONL corpus into the challenge's shards (first N documents -> val).")
public final class PrepareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--docs", required = true, description = "JSONL corpus, one {\"text\": ...} per line (.jsonl or .jsonl.xz)")
    Path docs;

    @Option(names = "--tokenizer", description = "SentencePiece .model file (default: DATA_DIR/tokenizers/fineweb_{VOCAB_SIZE}_bpe.model)")
    Path tokenizer;

    @Option(names = "--out", required = true, description = "output folder for fineweb_{val,train}_NNNNNN.bin and manifest.json")
    Path out;

    @Option(names = "--val-docs", description = "documents that form the validation split (default: NUM_VAL_DOCS)")
    Long valDocs;

    @Option(names = "--shard-tokens", description = "tokens per shard (default: SHARD_TOKENS)")
    Integer shardTokens;

    @Mixin
    ConfigOptions config;

    @Option(names = "--workers", description = "tokenizer workers (default: the number of cores)")
    Integer workers;

    @Override
    public Integer call() {
        ResolvedConfig resolved = config.resolve(System.getenv());
        DataConfig data = resolved.config().data();
        Path tokenizerFile = tokenizer != null ? tokenizer : data.tokenizerFile();
        boolean vocabChosen = tokenizer == null || resolved.isExplicit("data.vocab-size");
        Prepared p = prepare(docs, tokenizerFile, vocabChosen ? Optional.of(data) : Optional.empty(), out,
                valDocs != null ? valDocs : data.numValDocs(),
                shardTokens != null ? shardTokens : data.shardTokens(),
                workers != null ? workers : Runtime.getRuntime().availableProcessors());
        PrintWriter console = spec.commandLine().getOut();
        console.printf("prepare: %,d documents, %,d val + %,d train tokens, %d shards, manifest %s%n",
                p.documents(), p.valTokens(), p.trainTokens(), p.shards(), p.manifest());
        console.printf("prepare: %.2f MB of text in %.1f s = %.2f MB/s%n",
                p.textBytes() / 1e6, p.seconds(), p.textBytes() / 1e6 / p.seconds());
        console.flush();
        return 0;
    }

    /** The outcome of one prepare run. */
    public record Prepared(long documents, long valTokens, long trainTokens, int shards, long textBytes, double seconds, Path manifest) {
    }

    /**
     * Runs prepare in an actor system of its own; on any failure nothing is left in {@code out} (and earlier shards
     * there stay as they were).
     *
     * @param vocabOf the data configuration whose VOCAB_SIZE the tokenizer must match, when the user chose one
     */
    public static Prepared prepare(Path docs, Path tokenizerFile, Optional<DataConfig> vocabOf, Path out,
                                   long valDocs, int shardTokens, int workers) {
        return prepare(docs, tokenizerFile, vocabOf, out, valDocs, shardTokens, workers, PreparePipeline::run);
    }

    /**
     * Like {@link #prepare(Path, Path, Optional, Path, long, int, int)}, with the Tokenizer actors in {@code system}
     * (created with {@link PreparePipeline#systemSettings}), from a thread outside its default dispatcher.
     */
    static Prepared prepare(ActorSystem<?> system, Path docs, Path tokenizerFile, Optional<DataConfig> vocabOf, Path out,
                            long valDocs, int shardTokens, int workers) {
        return prepare(docs, tokenizerFile, vocabOf, out, valDocs, shardTokens, workers,
                (settings, progress) -> PreparePipeline.run(system, settings, progress));
    }

    private static Prepared prepare(Path docs, Path tokenizerFile, Optional<DataConfig> vocabOf, Path out,
                                    long valDocs, int shardTokens, int workers,
                                    BiFunction<PreparePipeline.Settings, ObjLongConsumer<Double>, PreparePipeline.Totals> pipeline) {
        if (valDocs < 0) {
            throw new IllegalArgumentException("--val-docs must be >= 0, got " + valDocs);
        }
        if (workers <= 0) {
            throw new IllegalArgumentException("--workers must be positive, got " + workers);
        }
        SentencePieceModel model = SentencePieceModel.load(tokenizerFile);
        vocabOf.ifPresent(data -> data.requireVocabMatches(model.vocabSize(), tokenizerFile));
        ProgressMeter meter = new ProgressMeter("prepare", "MB", System.err, 2_000_000_000L);
        try (ShardPublisher publisher = new ShardPublisher(out)) {
            ShardedExport export = new ShardedExport(publisher.stagingDir(), valDocs, shardTokens, model.bosId(), model.vocabSize());
            PreparePipeline.Totals totals = pipeline.apply(
                    new PreparePipeline.Settings(docs, model::encode, export, workers, 1 << 20),
                    (fraction, bytes) -> meter.update(fraction, bytes / 1e6));
            if (totals.documents() < valDocs) {
                throw new IllegalArgumentException(docs + " holds " + totals.documents()
                        + " documents, fewer than the " + valDocs + " asked for the validation split (--val-docs)");
            }
            meter.finish(totals.textBytes() / 1e6);
            Map<String, Object> description = new LinkedHashMap<>();
            description.put("docs", totals.documents());
            description.put("num_val_docs", valDocs);
            description.put("shard_size", shardTokens);
            description.put("tokenizer", tokenizerFile.toAbsolutePath().toString());
            description.put("tokenizer_sha256", ShardPublisher.sha256(tokenizerFile));
            description.put("vocab_size", model.vocabSize());
            description.put("tokens", Map.of("val", export.valTokens(), "train", export.trainTokens()));
            Path manifest = publisher.publish(export.written(), description);
            return new Prepared(totals.documents(), export.valTokens(), export.trainTokens(), export.written().size(),
                    totals.textBytes(), meter.elapsedSeconds(), manifest);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
