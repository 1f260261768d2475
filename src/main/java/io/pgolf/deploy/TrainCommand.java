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
 * {@code pgolf train}: the whole pipeline on the CPU backend as one run ({@link PipelineRun}): Tokenizer (when given
 * documents) -> DataLoader -> Trainer -> Quantizer -> Compressor -> the artifact's evaluations (plain, sliding, TTT
 * as configured), into a run folder with the artifact, submission.json, the log and one journal of every stage.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Run the pipeline on the CPU: tokenize (with --docs), train, quantize and compress into the "
                + "artifact, evaluate it (plain, sliding, TTT as configured); writes RUN/submission.json.")
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
            description = "validate and evaluate on the first N validation tokens only (whole windows; default: all). "
                    + "A run that sets it reports a bpb that is not the challenge's.")
    Long valTokens;

    @Option(names = "--no-quantize", description = "stop after training: no artifact, no evaluation of it")
    boolean noQuantize;

    @Option(names = "--no-eval", description = "stop after writing the artifact")
    boolean noEval;

    @Override
    public Integer call() throws Exception {
        if (docs != null && data != null) {
            throw new IllegalArgumentException("give --docs or --data, not both");
        }
        ResolvedConfig resolved = config.resolve(System.getenv());
        PgolfConfig cfg = resolved.config();
        Path run = out != null ? out : Path.of("runs", "train-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        PrintWriter console = spec.commandLine().getOut();
        PipelineRun.LastStage last = noQuantize ? PipelineRun.LastStage.TRAIN
                : noEval ? PipelineRun.LastStage.QUANTIZE : PipelineRun.LastStage.EVALUATE;
        PipelineRun.Outcome outcome = PipelineRun.run(new PipelineRun.Request(resolved, Optional.ofNullable(docs),
                data != null ? data : cfg.data().datasetDir(), tokenizer != null ? tokenizer : cfg.data().tokenizerFile(),
                run, threads != null ? threads : Runtime.getRuntime().availableProcessors(),
                Optional.ofNullable(valTokens), last, Invocation.commandLine(spec)), console);
        console.println();
        outcome.report().print(console);
        console.printf("pgolf train: run folder %s: %s, journal %s (%,d messages)%n", run, PipelineRun.REPORT,
                outcome.journal().getFileName(), outcome.journalEntries());
        console.flush();
        return 0;
    }
}
