package io.pgolf.actors;

import io.pgolf.config.PgolfConfig;
import io.pgolf.data.SafeTensors;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.loader.MicroBatchShape;
import io.pgolf.data.shard.Shards;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.eval.PlainEvaluation;
import io.pgolf.model.optim.ModelOptimizer;
import io.pgolf.model.train.TrainerSettings;
import io.pgolf.model.train.TrainingClock;
import io.pgolf.model.train.TrainingEngine;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.MessageJournal;
import io.pgolf.protocol.TrainerEvent;
import io.pgolf.protocol.Tokens;
import io.pgolf.testing.SharedFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A small model trained through the real pipeline on the shared sp1024 shards, for tests. */
final class TinyTraining {
    static final int VOCAB = 1024;

    /** The tiny model and schedule; tests add or replace knobs by their environment names. */
    static Map<String, String> baseKnobs() {
        Map<String, String> env = new HashMap<>();
        env.put("VOCAB_SIZE", "1024");
        env.put("NUM_LAYERS", "4");
        env.put("MODEL_DIM", "128");
        env.put("EMBEDDING_DIM", "128");
        env.put("NUM_HEADS", "4");
        env.put("NUM_KV_HEADS", "2");
        env.put("MLP_MULT", "2");
        env.put("ROPE_DIMS", "16");
        env.put("ROPE_TRAIN_SEQ_LEN", "128");
        env.put("XSA_LAST_N", "2");
        env.put("NUM_LOOPS", "1");
        env.put("LOOP_START", "1");
        env.put("LOOP_END", "2");
        env.put("TRAIN_SEQ_LEN", "128");
        env.put("EVAL_SEQ_LEN", "128");
        env.put("TRAIN_BATCH_TOKENS", "4096");
        env.put("VAL_BATCH_TOKENS", "16384");
        env.put("MAX_WALLCLOCK_SECONDS", "0");
        env.put("VAL_LOSS_EVERY", "0");
        env.put("TRAIN_LOG_EVERY", "0");
        return env;
    }

    /** The shared sp1024 shards, decompressed once per JVM. */
    static synchronized Path dataset() throws IOException {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "pgolf-test-sp1024-" + ProcessHandle.current().pid());
        if (!Files.isDirectory(dir)) {
            Path staging = Files.createTempDirectory("pgolf-sp1024");
            try (var files = Files.list(SharedFiles.root().resolve("data/datasets/fineweb10B_sp1024"))) {
                for (Path xz : files.filter(f -> f.toString().endsWith(".bin.xz")).toList()) {
                    SharedFiles.unxz(xz, staging);
                }
            }
            Files.move(staging, dir);
            dir.toFile().deleteOnExit();
        }
        return dir;
    }

    static ByteTables byteTables() {
        return ByteTables.of(SentencePieceModel.load(SharedFiles.tokenizer(VOCAB)), VOCAB);
    }

    /** The first {@code windows} validation windows of 128 tokens. */
    static Tokens validationPrefix(int windows) throws IOException {
        Tokens all = Shards.validationTokens(dataset(), 128);
        return Tokens.of(all.toIntArray(), 0, windows * 128 + 1);
    }

    /** What one run produced: the events in journal order, the weights file and the configuration. */
    record Run(List<TrainerEvent> events, Path weights, PgolfConfig config) {
        <T extends TrainerEvent> List<T> eventsOf(Class<T> type) {
            return events.stream().filter(type::isInstance).map(type::cast).toList();
        }
    }

    static Run train(Map<String, String> knobs, int valWindows, Path dir) throws Exception {
        Files.createDirectories(dir);
        PgolfConfig config = PgolfConfig.load(Optional.empty(), knobs, List.of());
        int accum = config.distributed().gradAccumSteps();
        MicroBatchShape shape = MicroBatchShape.of(config.train().trainBatchTokens(), 1, config.train().trainSeqLen());
        CpuBackend backend = new CpuBackend(2);
        Gpt model = Gpt.initialized(backend, new GptLayout(config.model(), VOCAB, config.optimizer().tiedEmbedInitStd()),
                config.train().seed());
        TrainingEngine engine = new TrainingEngine(model,
                new ModelOptimizer(model.parameters(), config.optimizer(), true), accum);
        Path weights = dir.resolve("weights.safetensors");
        TrainerSettings settings = TrainerSettings.of(config, accum, weights, Map.of("test", "tiny"));
        PlainEvaluation validation = new PlainEvaluation(validationPrefix(valWindows), 128,
                Math.max(1, config.eval().valBatchTokens() / accum / 128), byteTables());
        Path journalFile = dir.resolve("train.journal");
        List<String> log = new ArrayList<>();
        try (MessageJournal journal = MessageJournal.create(journalFile, MessageJournal.Options.DEFAULT)) {
            TrainingPipeline.run(new TrainingPipeline.Settings(BatchSource.shards(dataset()).open(0, shape), engine,
                    settings, TrainingClock.wall(), Optional.of(validation), journal, log::add, 0));
        } finally {
            backend.close();
        }
        List<TrainerEvent> events = new ArrayList<>();
        for (JournalEntry e : JournalReader.readAll(journalFile).entries()) {
            if (e.message() instanceof TrainerEvent event) {
                events.add(event);
            }
        }
        return new Run(events, weights, config);
    }

    /** Loads saved weights into a fresh model of the run's configuration. */
    static Gpt load(Run run, CpuBackend backend) {
        Gpt model = Gpt.zeros(backend, new GptLayout(run.config().model(), VOCAB, run.config().optimizer().tiedEmbedInitStd()));
        try (SafeTensors file = SafeTensors.open(run.weights())) {
            model.parameters().loadFrom(file, "");
        }
        return model;
    }

    private TinyTraining() {
    }
}
