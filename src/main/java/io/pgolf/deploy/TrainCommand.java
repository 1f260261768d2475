package io.pgolf.deploy;

import io.pgolf.config.ConfigOptions;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code pgolf train}: Tokenizer (when given documents) -> DataLoader -> Trainer on the CPU backend, writing the
 * trained (EMA) weights under the reference's names into a run folder with the log, the journal and the config.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train the model of the configuration on shards (or on documents, tokenized first) on the CPU.")
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions config;

    @Option(names = "--data", paramLabel = "DIR",
            description = "folder of fineweb_{train,val}_*.bin shards (default: DATA_DIR/datasets/fineweb10B_sp{VOCAB_SIZE})")
    Path data;

    @Option(names = "--docs", paramLabel = "FILE",
            description = "JSONL corpus to tokenize into RUN/data first (through the Tokenizer actors) instead of --data")
    Path docs;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "SentencePiece model (default: DATA_DIR/tokenizers/fineweb_{VOCAB_SIZE}_bpe.model)")
    Path tokenizer;

    @Option(names = "--out", paramLabel = "DIR", description = "run folder (default: runs/train-<date-time>)")
    Path out;

    @Option(names = "--threads", description = "CPU backend threads (default: the number of cores)")
    Integer threads;

    @Option(names = "--val-tokens", paramLabel = "N",
            description = "validate on the first N validation tokens only (whole windows; default: all). A run that "
                    + "sets it reports a bpb that is not the challenge's.")
    Long valTokens;

    @Override
    public Integer call() throws Exception {
        if (docs != null && data != null) {
            throw new IllegalArgumentException("give --docs or --data, not both");
        }
        ResolvedConfig resolved = config.resolve(System.getenv());
        PgolfConfig cfg = resolved.config();
        Path run = out != null ? out : Path.of("runs", "train-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        PrintWriter console = spec.commandLine().getOut();
        TrainingRun.Outcome outcome = TrainingRun.run(new TrainingRun.Request(resolved, Optional.ofNullable(docs),
                data != null ? data : cfg.data().datasetDir(), tokenizer != null ? tokenizer : cfg.data().tokenizerFile(),
                run, threads != null ? threads : Runtime.getRuntime().availableProcessors(),
                Optional.ofNullable(valTokens)), console);
        console.printf("pgolf train: weights %s; journal %s holds %,d trainer events%n",
                outcome.finished().weightsFile(), outcome.journal(), outcome.journalEntries());
        console.flush();
        return 0;
    }
}
