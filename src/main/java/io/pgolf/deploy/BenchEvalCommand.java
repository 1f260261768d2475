package io.pgolf.deploy;

import io.pgolf.config.BackendKind;
import io.pgolf.config.ConfigOptions;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.TttConfig;
import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.cuda.CudaBackend;
import io.pgolf.gpu.cuda.DeviceMemoryPool;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.eval.ChunkTraining;
import io.pgolf.model.eval.GptScorer;
import io.pgolf.model.eval.PlainEvaluation;
import io.pgolf.model.eval.ScoreFirstTtt;
import io.pgolf.model.eval.ScoreReceipt;
import io.pgolf.model.eval.SlidingEvaluation;
import io.pgolf.model.eval.SlidingWindows;
import io.pgolf.model.eval.TttPlan;
import io.pgolf.protocol.Tokens;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code pgolf bench eval}: evaluation throughput of the configured model with random weights: plain windows,
 * sliding windows (EVAL_SEQ_LEN, EVAL_STRIDE) and score-first TTT (TTT_CHUNK_TOKENS, TTT_EPOCHS, ...), each
 * measured after a warm-up pass over a prefix of the tokens, whatever SLIDING_WINDOW_ENABLED and TTT_ENABLED say.
 * The tokens are a shard folder's validation split or seeded random ids; losses are in bits per byte only when a
 * tokenizer gives the bytes each token stands for (the weights are random, so they only show that scoring ran).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluation throughput (tokens/s) of the configured model with random weights: plain windows, "
                + "sliding windows, and score-first TTT with its split between scoring and training.")
final class BenchEvalCommand implements Callable<Integer> {
    static final int CPU_DEFAULT_TOKENS = 4_096;
    static final int CUDA_DEFAULT_TOKENS = 262_144;
    private static final double GIB = 1L << 30;

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions config;

    @Mixin
    BackendOptions backendOptions;

    @Option(names = "--data", paramLabel = "DIR",
            description = "folder of fineweb_val_*.bin shards to take the tokens from (default: seeded random tokens)")
    Path data;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "SentencePiece model whose byte counts turn the losses into bits per byte (default: none,"
                    + " losses per token)")
    Path tokenizer;

    @Option(names = "--tokens", paramLabel = "N",
            description = "validation targets to evaluate, cut to whole EVAL_SEQ_LEN windows (default "
                    + CPU_DEFAULT_TOKENS + " on cpu, " + CUDA_DEFAULT_TOKENS + " on cuda)")
    Integer tokens;

    @Override
    public Integer call() throws IOException {
        PgolfConfig cfg = config.load();
        int seqLen = cfg.eval().evalSeqLen();
        int requested = tokens != null ? tokens
                : backendOptions.kind == BackendKind.CUDA ? CUDA_DEFAULT_TOKENS : CPU_DEFAULT_TOKENS;
        if (requested <= 0) {
            throw new IllegalArgumentException("--tokens must be positive, got " + requested);
        }
        if (requested < seqLen) {
            throw new IllegalArgumentException("--tokens " + requested + " is less than one evaluation window of "
                    + "EVAL_SEQ_LEN = " + seqLen + " tokens");
        }
        int vocab = cfg.data().vocabSize();
        Tokens validation = data != null ? datasetTokens(data, seqLen, requested, vocab)
                : randomTokens(requested / seqLen * seqLen + 1, vocab, cfg.train().seed());
        ByteTables tables = tokenizer != null ? tokenizerTables(cfg) : ByteTables.oneBytePerToken(vocab);
        PrintWriter out = spec.commandLine().getOut();
        try (Backend backend = backendOptions.open();
             Gpt model = Gpt.initialized(backend, new GptLayout(cfg.model(), vocab,
                     cfg.optimizer().tiedEmbedInitStd()), cfg.train().seed())) {
            // Evaluation runs with the depth loop on when there is one, as the reference's evaluation model does.
            model.setLooping(cfg.model().numLoops() > 0);
            out.printf(Locale.ROOT, "bench eval: %s; %d layers x %d, vocab %d, %,d parameters, depth loop %s%n",
                    backend.name(), cfg.model().numLayers(), cfg.model().modelDim(), vocab,
                    model.parameters().elementCount(), model.looping() ? "on" : "off");
            out.printf(Locale.ROOT, "bench eval: %,d targets (%,d windows of %d) from %s; %s%n",
                    validation.length() - 1, (validation.length() - 1) / seqLen, seqLen,
                    data != null ? data + "'s validation split" : "random tokens (seed " + cfg.train().seed() + ")",
                    tokenizer != null ? "bits per byte from " + tokenizer.getFileName()
                            : "no --tokenizer: losses in bits per token");
            out.flush();
            Measure measure = new Measure(backend);
            plain(out, measure, new GptScorer(model), validation, cfg, tables);
            sliding(out, measure, new GptScorer(model), validation, cfg, tables);
            ttt(out, measure, model, validation, cfg, tables);
        }
        return 0;
    }

    private void plain(PrintWriter out, Measure measure, GptScorer scorer, Tokens validation, PgolfConfig cfg,
                       ByteTables tables) {
        int seqLen = cfg.eval().evalSeqLen();
        PlainEvaluation evaluation = PlainValidation.of(validation, cfg, tables);
        int batchSeqs = Math.min(evaluation.windows(), PlainValidation.batchSeqs(cfg));
        PlainValidation.of(prefix(validation, batchSeqs * seqLen), cfg, tables).run(scorer);
        measure.resetPeak();
        Timed<BitsPerByte.Totals> run = measure.time(() -> evaluation.run(scorer));
        out.printf(Locale.ROOT, "plain:   %,d tokens in %,d windows of %d, batches of %d: %.2f s, %,.0f tokens/s, "
                        + "%s%s%n", run.value().tokens(), evaluation.windows(), seqLen, batchSeqs, run.seconds(),
                run.value().tokens() / run.seconds(), loss(run.value()), measure.peakMemory());
        out.flush();
    }

    private void sliding(PrintWriter out, Measure measure, GptScorer scorer, Tokens validation, PgolfConfig cfg,
                         ByteTables tables) {
        int seqLen = cfg.eval().evalSeqLen();
        int stride = cfg.eval().evalStride();
        SlidingEvaluation evaluation = new SlidingEvaluation(validation, seqLen, stride, cfg.eval().slidingBatchSeqs(),
                tables);
        SlidingWindows windows = evaluation.windows();
        int batchSeqs = Math.min(windows.count(), cfg.eval().slidingBatchSeqs());
        // Enough targets for one full batch of windows.
        int warmTargets = Math.min(windows.targets(), windows.contextSize() + batchSeqs * stride);
        new SlidingEvaluation(prefix(validation, warmTargets), seqLen, stride, batchSeqs, tables).run(scorer);
        measure.resetPeak();
        Timed<BitsPerByte.Totals> run = measure.time(() -> evaluation.run(scorer));
        out.printf(Locale.ROOT, "sliding: %,d scored tokens in %,d windows of %d, stride %d, batches of %d: %.2f s, "
                        + "%,.0f scored tokens/s, %,.2f windows/s, %s%s%n", run.value().tokens(), windows.count(),
                seqLen, stride, batchSeqs, run.seconds(), run.value().tokens() / run.seconds(),
                windows.count() / run.seconds(), loss(run.value()), measure.peakMemory());
        out.flush();
    }

    /** What one score-first TTT pass did, with the seconds of its scoring and of its training apart. */
    private record TttPass(BitsPerByte.Totals totals, int chunksScored, int chunksTrained, int optimizerSteps,
                           double scoreSeconds, double trainSeconds) {
        double seconds() {
            return scoreSeconds + trainSeconds;
        }
    }

    private void ttt(PrintWriter out, Measure measure, Gpt model, Tokens validation, PgolfConfig cfg,
                     ByteTables tables) {
        int seqLen = cfg.eval().evalSeqLen();
        TttConfig ttt = cfg.ttt();
        // Two chunks, so that the warm-up trains on one. It changes the weights, which throughput does not mind.
        int warmTargets = Math.min(validation.length() - 1, ttt.tttChunkTokens() + seqLen);
        tttPass(measure, model, prefix(validation, warmTargets), cfg, tables);
        measure.resetPeak();
        TttPass pass = tttPass(measure, model, validation, cfg, tables);
        out.printf(Locale.ROOT, "ttt:     %,d scored tokens in %d chunks of %,d (%d trained, %d epochs, %,d optimizer "
                        + "steps of up to %d sequences): %.2f s, %,.0f scored tokens/s; scoring %.2f s (%.0f%%), "
                        + "training %.2f s (%.0f%%), %s%s%n", pass.totals().tokens(), pass.chunksScored(),
                ttt.tttChunkTokens(), pass.chunksTrained(), ttt.tttEpochs(), pass.optimizerSteps(),
                ttt.tttBatchSeqs(), pass.seconds(), pass.totals().tokens() / pass.seconds(), pass.scoreSeconds(),
                100 * pass.scoreSeconds() / pass.seconds(), pass.trainSeconds(),
                100 * pass.trainSeconds() / pass.seconds(), loss(pass.totals()), measure.peakMemory());
        out.flush();
    }

    /** Every step of a score-first TTT pass in order (as {@link ScoreFirstTtt#run}), each step timed. */
    private static TttPass tttPass(Measure measure, Gpt model, Tokens validation, PgolfConfig cfg, ByteTables tables) {
        BitsPerByte sums = new BitsPerByte(tables);
        int scored = 0;
        int trained = 0;
        int steps = 0;
        double scoreSeconds = 0;
        double trainSeconds = 0;
        try (ScoreFirstTtt engine = new ScoreFirstTtt(model, validation, cfg.eval().evalSeqLen(),
                cfg.eval().evalStride(), cfg.ttt(), tables)) {
            TttPlan plan = engine.plan();
            for (int chunk : plan.scoredChunks()) {
                Timed<ScoreReceipt> score = measure.time(() -> engine.score(chunk));
                scoreSeconds += score.seconds();
                sums.merge(score.value().totals());
                scored++;
                if (!plan.isLast(chunk)) {
                    Timed<ChunkTraining> training = measure.time(() -> engine.train(score.value()));
                    trainSeconds += training.seconds();
                    steps += training.value().optimizerSteps();
                    trained++;
                }
            }
        }
        return new TttPass(sums.totals(), scored, trained, steps, scoreSeconds, trainSeconds);
    }

    private String loss(BitsPerByte.Totals totals) {
        return tokenizer != null ? String.format(Locale.ROOT, "val_bpb %.4f", totals.bitsPerByte())
                : String.format(Locale.ROOT, "%.4f bits/token", totals.bitsPerByte());
    }

    private record Timed<T>(T value, double seconds) {
    }

    /** Wall-clock timing with the device's queue drained on both sides, and the device memory peak since a reset. */
    private static final class Measure {
        private final Backend backend;

        Measure(Backend backend) {
            this.backend = backend;
        }

        <T> Timed<T> time(Supplier<T> work) {
            backend.synchronize();
            long start = System.nanoTime();
            T value = work.get();
            backend.synchronize();
            return new Timed<>(value, (System.nanoTime() - start) / 1e9);
        }

        void resetPeak() {
            if (backend instanceof CudaBackend cuda) {
                cuda.runtime().pool().resetPeaks();
            }
        }

        /** The peak since the last reset, as a suffix of a figure's line (empty on the CPU). */
        String peakMemory() {
            if (!(backend instanceof CudaBackend cuda)) {
                return "";
            }
            DeviceMemoryPool.Stats memory = cuda.memory();
            return String.format(Locale.ROOT, ", peak device memory %.2f GiB in tensors, %.2f GiB from the driver",
                    memory.peakInUseBytes() / GIB, memory.peakReservedBytes() / GIB);
        }
    }

    /** The first {@code targets} targets of {@code tokens}: their inputs and the token after the last. */
    private static Tokens prefix(Tokens tokens, int targets) {
        return Tokens.of(tokens.toIntArray(), 0, targets + 1);
    }

    private static Tokens randomTokens(int length, int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = random.nextInt(vocab);
        }
        return Tokens.of(ids);
    }

    private static Tokens datasetTokens(Path dataset, int seqLen, int targets, int vocab) throws IOException {
        Tokens validation = PlainValidation.tokens(dataset, seqLen, Optional.of((long) targets));
        for (int i = 0; i < validation.length(); i++) {
            if (validation.get(i) >= vocab) {
                throw new IllegalArgumentException("validation token " + validation.get(i) + " at position " + i
                        + " of " + dataset + " is outside the model's vocabulary of " + vocab);
            }
        }
        return validation;
    }

    private ByteTables tokenizerTables(PgolfConfig cfg) {
        SentencePieceModel spm = SentencePieceModel.load(tokenizer);
        cfg.data().requireVocabMatches(spm.vocabSize(), tokenizer);
        return ByteTables.of(spm, cfg.data().vocabSize());
    }
}
