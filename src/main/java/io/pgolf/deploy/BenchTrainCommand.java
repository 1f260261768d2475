package io.pgolf.deploy;

import io.pgolf.config.PgolfConfig;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.TimedBackend;
import io.pgolf.gpu.cuda.CudaBackend;
import io.pgolf.gpu.cuda.CudaUnavailableException;
import io.pgolf.gpu.cuda.DeviceMemoryPool;
import io.pgolf.gpu.cuda.GpuTelemetry;
import io.pgolf.gpu.cuda.QueueAheadTimer;
import io.pgolf.gpu.cuda.TelemetrySummary;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.optim.ModelOptimizer;
import io.pgolf.model.train.TrainingEngine;
import io.pgolf.protocol.TrainBatch;
import io.pgolf.protocol.Tokens;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code pgolf bench train}: training throughput for the fixtures' tiny configuration and for the record's model.
 * Tokens are random (throughput does not depend on them); every step is a real forward, backward and optimizer
 * step of the training engine. On the CPU a record step would take hours, so one micro-batch of it is timed; on a
 * GPU whole record steps (786,432 tokens) are timed with the depth loop off and on, with the peak device memory and
 * a breakdown of one step by operation.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Training throughput: the tiny fixture config, and the record model (micro-batches on the CPU,"
                + " whole steps on a GPU).")
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

    @Mixin
    BackendOptions backendOptions;

    @Option(names = "--record-steps", defaultValue = "3",
            description = "measured whole record steps per loop state on a GPU (default ${DEFAULT-VALUE})")
    int recordSteps;

    @Option(names = "--steps", defaultValue = "5", description = "measured tiny steps per loop state (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--record-rows", defaultValue = "1",
            description = "sequences of 2048 tokens in the record model's measured micro-batch (default ${DEFAULT-VALUE})")
    int recordRows;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (Backend backend = backendOptions.open()) {
            out.printf("bench train: %s%n", backend.name());
            out.flush();
            if (!(backend instanceof CudaBackend)) {
                PgolfConfig tiny = PgolfConfig.load(Optional.empty(), TINY, List.of());
                try (TrainingEngine engine = engine(backend, tiny)) {
                    int rows = tiny.trainSequencesPerMicroStep();
                    measureSteps(out, "tiny", engine, rows, tiny.train().trainSeqLen(), tiny.data().vocabSize());
                }
            }
            PgolfConfig record = PgolfConfig.load(Optional.empty(), Map.of("QK_GAIN_INIT", "5.0"), List.of());
            long start = System.nanoTime();
            try (TrainingEngine engine = engine(backend, record)) {
                out.printf(Locale.ROOT, "record: %,d parameters, initialized in %.1f s%n",
                        engine.model().parameters().elementCount(), (System.nanoTime() - start) / 1e9);
                if (backend instanceof CudaBackend cuda) {
                    Optional<GpuTelemetry> telemetry = openTelemetry(out, cuda);
                    try {
                        measureRecordSteps(out, engine, record, telemetry);
                    } finally {
                        telemetry.ifPresent(GpuTelemetry::close);
                    }
                    measureHostWaits(out, engine, record, cuda);
                } else {
                    measureRecordStep(out, engine, record);
                }
            }
            if (backend instanceof CudaBackend cuda) {
                DeviceMemoryPool.Stats memory = cuda.memory();
                out.printf(Locale.ROOT, "peak device memory: %.2f GiB in tensors, %.2f GiB taken from the driver%n",
                        memory.peakInUseBytes() / GIB, memory.peakReservedBytes() / GIB);
                breakdown(out, backend, record);
                out.println("gemm algorithm per problem (" + cuda.runtime().gemmSelection() + "):");
                cuda.runtime().gemmAlgorithms().forEach(line -> out.println("  " + line));
                out.flush();
            }
        }
        return 0;
    }

    private static final double GIB = 1L << 30;
    /** Longer than the host takes to queue a micro-batch (~100 ms of GPU work) or an optimizer step. */
    private static final Duration MICRO_BATCH_HOLD = Duration.ofMillis(300);
    private static final Duration OPTIMIZER_HOLD = Duration.ofMillis(100);

    /** NVML's view of the GPU for the measured steps, or empty, said on {@code out}, where NVML is missing. */
    private static Optional<GpuTelemetry> openTelemetry(PrintWriter out, CudaBackend cuda) {
        try {
            return Optional.of(GpuTelemetry.open(cuda.runtime().device()));
        } catch (CudaUnavailableException e) {
            out.println("GPU clocks and power: not reported (" + e.getMessage() + ")");
            return Optional.empty();
        }
    }

    /**
     * Whole record steps, the depth loop off then on, after one warm-up step each, with what the GPU ran at while
     * they did (its clocks, held down by its power limit, explain most of the spread between machines).
     */
    private void measureRecordSteps(PrintWriter out, TrainingEngine engine, PgolfConfig record,
                                    Optional<GpuTelemetry> telemetry) {
        SplittableRandom random = new SplittableRandom(2);
        int rows = record.trainSequencesPerMicroStep();
        int seqLen = record.train().trainSeqLen();
        long stepTokens = (long) engine.microBatchesPerStep() * rows * seqLen;
        Backend backend = engine.model().parameters().backend();
        for (boolean looping : new boolean[]{false, true}) {
            engine.model().setLooping(looping);
            long start = 0;
            long optimizerNanos = 0;
            Optional<GpuTelemetry.Recording> recording = Optional.empty();
            for (int s = 0; s < 1 + recordSteps; s++) {
                if (s == 1) {
                    backend.synchronize();
                    recording = telemetry.map(GpuTelemetry::record);
                    start = System.nanoTime();
                }
                for (int m = 0; m < engine.microBatchesPerStep(); m++) {
                    engine.accumulate(randomBatch(random, rows, seqLen, record.data().vocabSize()));
                }
                // Each micro-batch ends by reading its loss, so the queue is nearly empty here and the two waits
                // around the optimizer cost little; they show what the optimizer step takes on its own.
                backend.synchronize();
                long optimizerStart = System.nanoTime();
                engine.step(s, 1.0);
                backend.synchronize();
                if (s >= 1) {
                    optimizerNanos += System.nanoTime() - optimizerStart;
                }
            }
            backend.synchronize();
            double seconds = (System.nanoTime() - start) / 1e9;
            Optional<TelemetrySummary> gpu = recording.map(GpuTelemetry.Recording::stop);
            out.printf(Locale.ROOT, "record, loop %s: %d steps of %,d tokens (%d x %d x %d), %.3f s/step, %,.0f tokens/s"
                            + " (optimizer %.1f ms/step)%n", looping ? "on " : "off", recordSteps, stepTokens,
                    engine.microBatchesPerStep(), rows, seqLen, seconds / recordSteps,
                    stepTokens * recordSteps / seconds, optimizerNanos / 1e6 / recordSteps);
            gpu.ifPresent(summary -> out.println("  GPU meanwhile: " + summary.describe()));
            out.flush();
        }
    }

    /**
     * Record steps (loop off) whose micro-batches and optimizer step each run behind a {@link QueueAheadTimer} hold,
     * once issued live as in training and once queued ahead of the GPU: the difference is the time the GPU waits for
     * the host, the most that replaying a step as a CUDA graph could save.
     */
    private void measureHostWaits(PrintWriter out, TrainingEngine engine, PgolfConfig record, CudaBackend cuda) {
        SplittableRandom random = new SplittableRandom(4);
        int rows = record.trainSequencesPerMicroStep();
        int seqLen = record.train().trainSeqLen();
        int vocab = record.data().vocabSize();
        engine.model().setLooping(false);
        double[][] millis = new double[2][2];
        try (QueueAheadTimer timer = new QueueAheadTimer(cuda.runtime())) {
            for (int s = 0; s < recordSteps; s++) {
                List<TrainBatch> batches = Stream.generate(() -> randomBatch(random, rows, seqLen, vocab))
                        .limit(engine.microBatchesPerStep()).toList();
                for (int mode = 0; mode < 2; mode++) {
                    boolean queueAhead = mode == 1;
                    for (TrainBatch batch : batches) {
                        timer.holdAndStart(MICRO_BATCH_HOLD, queueAhead);
                        engine.accumulate(batch);
                        timer.stop();
                        millis[mode][0] += timer.elapsedMillis();
                    }
                    timer.holdAndStart(OPTIMIZER_HOLD, queueAhead);
                    engine.step(s, 1.0);
                    timer.stop();
                    millis[mode][1] += timer.elapsedMillis();
                }
            }
        }
        double live = (millis[0][0] + millis[0][1]) / recordSteps;
        double queued = (millis[1][0] + millis[1][1]) / recordSteps;
        out.printf(Locale.ROOT, "record, loop off, GPU time per step behind a hold: issued live %.1f ms (forward+backward"
                        + " %.1f, optimizer %.1f), queued ahead %.1f ms (%.1f, %.1f): the GPU waits for the host %.1f"
                        + " ms/step (%.2f%%), the most a CUDA graph of the step could save%n", live,
                millis[0][0] / recordSteps, millis[0][1] / recordSteps, queued, millis[1][0] / recordSteps,
                millis[1][1] / recordSteps, live - queued, 100 * (live - queued) / live);
        out.flush();
    }

    /** One record step (loop off) with every operation timed on its own: where the step's time goes. */
    private static void breakdown(PrintWriter out, Backend backend, PgolfConfig record) {
        TimedBackend timed = new TimedBackend(backend);
        SplittableRandom random = new SplittableRandom(3);
        int rows = record.trainSequencesPerMicroStep();
        int seqLen = record.train().trainSeqLen();
        try (TrainingEngine engine = engine(timed, record)) {
            for (int s = 0; s < 2; s++) {
                if (s == 1) {
                    timed.clear();
                }
                for (int m = 0; m < engine.microBatchesPerStep(); m++) {
                    engine.accumulate(randomBatch(random, rows, seqLen, record.data().vocabSize()));
                }
                engine.step(s, 1.0);
            }
        }
        Map<String, long[]> table = timed.table();
        double total = table.values().stream().mapToLong(v -> v[0]).sum() / 1e9;
        Map<String, Double> groups = new java.util.LinkedHashMap<>();
        table.forEach((op, v) -> groups.merge(breakdownGroup(op), v[0] / 1e9, Double::sum));
        out.printf(Locale.ROOT, "breakdown of one record step, loop off, each operation timed alone (%.3f s in all):%n",
                total);
        groups.forEach((group, seconds) -> out.printf(Locale.ROOT, "  %-44s %8.3f s %5.1f%%%n", group, seconds,
                100 * seconds / total));
        table.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]))
                .forEach(e -> out.printf(Locale.ROOT, "    %-44s %8.3f s %5.1f%% %7d calls%n", e.getKey(),
                        e.getValue()[0] / 1e9, 100 * e.getValue()[0] / 1e9 / total, e.getValue()[1]));
        out.flush();
    }

    /** The part of the step an operation of the timed backend's table belongs to. */
    private static String breakdownGroup(String op) {
        if (op.startsWith("gemm")) {
            return "GEMMs (cuBLASLt)";
        }
        if (op.startsWith("mlpHidden")) {
            return "MLP products with leaky-relu^2 (mlp_gemm.cu)";
        }
        return op.startsWith("attention") ? "attention (flash, fwd+bwd)" : "the rest";
    }

    private static TrainingEngine engine(Backend backend, PgolfConfig config) {
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
