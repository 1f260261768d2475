package io.pgolf.deploy;

import io.pgolf.config.PgolfConfig;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.optim.ModelOptimizer;
import io.pgolf.model.train.TrainingEngine;
import io.pgolf.protocol.TrainBatch;
import io.pgolf.protocol.Tokens;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code pgolf bench train}: training throughput of the CPU backend, for the fixtures' tiny configuration and for
 * the record's model. Tokens are random (throughput does not depend on them); every step is a real
 * forward, backward and optimizer step of the training engine.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "CPU training throughput: the tiny fixture config, and micro-batches of the record model.")
final class BenchTrainCommand implements Callable<Integer> {
    /** The configuration of ../shared/fixtures/reference_tiny (vocab 1024, 5 x 64, seq 32). */
    private static final Map<String, String> TINY = Map.ofEntries(Map.entry("VOCAB_SIZE", "1024"),
            Map.entry("NUM_LAYERS", "5"), Map.entry("MODEL_DIM", "64"), Map.entry("EMBEDDING_DIM", "64"),
            Map.entry("NUM_HEADS", "4"), Map.entry("NUM_KV_HEADS", "2"), Map.entry("ROPE_DIMS", "8"),
            Map.entry("XSA_LAST_N", "2"), Map.entry("LOOP_START", "1"), Map.entry("LOOP_END", "2"),
            Map.entry("TRAIN_SEQ_LEN", "32"), Map.entry("ROPE_TRAIN_SEQ_LEN", "32"), Map.entry("QK_GAIN_INIT", "5.0"),
            Map.entry("TRAIN_BATCH_TOKENS", "8192"));

    @Spec
    CommandSpec spec;

    @Option(names = "--threads", description = "CPU backend threads (default: the number of cores)")
    Integer threads;

    @Option(names = "--steps", defaultValue = "5", description = "measured tiny steps per loop state (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--record-rows", defaultValue = "1",
            description = "sequences of 2048 tokens in the record model's measured micro-batch (default ${DEFAULT-VALUE})")
    int recordRows;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        try (CpuBackend backend = new CpuBackend(t)) {
            out.printf("bench train: %s%n", backend.name());
            out.flush();
            PgolfConfig tiny = PgolfConfig.load(Optional.empty(), TINY, List.of());
            try (TrainingEngine engine = engine(backend, tiny)) {
                int rows = tiny.trainSequencesPerMicroStep();
                measureSteps(out, "tiny", engine, rows, tiny.train().trainSeqLen(), tiny.data().vocabSize());
            }
            PgolfConfig record = PgolfConfig.load(Optional.empty(), Map.of("QK_GAIN_INIT", "5.0"), List.of());
            long start = System.nanoTime();
            try (TrainingEngine engine = engine(backend, record)) {
                out.printf(Locale.ROOT, "record: %,d parameters, initialized in %.1f s%n",
                        engine.model().parameters().elementCount(), (System.nanoTime() - start) / 1e9);
                measureRecordStep(out, engine, record);
            }
        }
        return 0;
    }

    private static TrainingEngine engine(CpuBackend backend, PgolfConfig config) {
        Gpt model = Gpt.initialized(backend, new GptLayout(config.model(), config.data().vocabSize(),
                config.optimizer().tiedEmbedInitStd()), config.train().seed());
        return new TrainingEngine(model, new ModelOptimizer(model.parameters(), config.optimizer(),
                config.model().tieEmbeddings()), config.distributed().gradAccumSteps());
    }

    private void measureSteps(PrintWriter out, String label, TrainingEngine engine, int rows, int seqLen, int vocab) {
        SplittableRandom random = new SplittableRandom(1);
        for (boolean looping : new boolean[]{false, true}) {
            engine.model().setLooping(looping);
            int warm = 2;
            long start = 0;
            for (int s = 0; s < warm + steps; s++) {
                if (s == warm) {
                    start = System.nanoTime();
                }
                for (int m = 0; m < engine.microBatchesPerStep(); m++) {
                    engine.accumulate(randomBatch(random, rows, seqLen, vocab));
                }
                engine.step(s, 1.0);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long tokens = (long) steps * engine.microBatchesPerStep() * rows * seqLen;
            out.printf(Locale.ROOT, "%s, loop %s: %d steps of %,d tokens, %.3f s/step, %,.0f tokens/s%n", label,
                    looping ? "on " : "off", steps, tokens / steps, seconds / steps, tokens / seconds);
            out.flush();
        }
    }

    /** One micro-batch forward+backward and one optimizer step; a full step is 8 micro-batches of 48 x 2048. */
    private void measureRecordStep(PrintWriter out, TrainingEngine engine, PgolfConfig record) {
        SplittableRandom random = new SplittableRandom(2);
        int seqLen = record.train().trainSeqLen();
        long fullStepTokens = record.train().trainBatchTokens();
        for (boolean looping : new boolean[]{false, true}) {
            engine.model().setLooping(looping);
            long start = System.nanoTime();
            for (int m = 0; m < engine.microBatchesPerStep(); m++) {
                engine.accumulate(randomBatch(random, recordRows, seqLen, record.data().vocabSize()));
            }
            double forwardBackward = (System.nanoTime() - start) / 1e9;
            start = System.nanoTime();
            engine.step(0, 1.0);
            double optimizer = (System.nanoTime() - start) / 1e9;
            long tokens = (long) engine.microBatchesPerStep() * recordRows * seqLen;
            double tokensPerSecond = tokens / forwardBackward;
            out.printf(Locale.ROOT, "record, loop %s: step of %,d tokens: forward+backward %.1f s (%,.0f tokens/s), "
                            + "optimizer %.1f s; a full %,d-token step would take ~%.0f s%n", looping ? "on " : "off",
                    tokens, forwardBackward, tokensPerSecond, optimizer, fullStepTokens,
                    fullStepTokens / tokensPerSecond + optimizer);
            out.flush();
        }
    }

    private static TrainBatch randomBatch(SplittableRandom random, int rows, int seqLen, int vocab) {
        int[] ids = new int[rows * (seqLen + 1)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(vocab);
        }
        return new TrainBatch(0, 0, rows, seqLen, Tokens.of(ids));
    }
}
