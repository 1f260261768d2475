package io.pgolf.deploy;

import io.pgolf.config.ConfigInputs;
import io.pgolf.config.PgolfConfig;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.data.artifact.ArtifactReader;
import io.pgolf.data.artifact.LoadedArtifact;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.data.corpus.ShardPublisher;
import io.pgolf.data.tokenizer.SentencePieceModel;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.eval.GptScorer;
import io.pgolf.model.eval.PlainEvaluation;
import io.pgolf.model.eval.ScoreFirstTtt;
import io.pgolf.model.eval.SlidingEvaluation;
import io.pgolf.model.quant.QuantizedTensor;
import io.pgolf.protocol.ArtifactRefused;
import io.pgolf.protocol.ArtifactWritten;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.Evaluated;
import io.pgolf.protocol.EvaluationMethod;
import io.pgolf.protocol.PipelineMessage;
import io.pgolf.protocol.InputFile;
import io.pgolf.protocol.InputRole;
import io.pgolf.protocol.QuantizationDone;
import io.pgolf.protocol.RunStarted;
import io.pgolf.protocol.TrainBatch;
import io.pgolf.protocol.StageFinished;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TttFinished;
import io.pgolf.testing.RealisticWeights;
import io.pgolf.testing.SharedFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.function.ToDoubleFunction;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pgolf quantize then pgolf eval on a small model and the shared sp1024 shards. */
class QuantizeEvalCommandTest {
    private static final List<String> KNOBS = List.of("VOCAB_SIZE=1024", "NUM_LAYERS=3", "MODEL_DIM=256",
            "EMBEDDING_DIM=256", "NUM_HEADS=4", "NUM_KV_HEADS=2", "MLP_MULT=4", "ROPE_DIMS=16", "ROPE_TRAIN_SEQ_LEN=128",
            "XSA_LAST_N=2", "NUM_LOOPS=1", "LOOP_START=1", "LOOP_END=1", "TRAIN_SEQ_LEN=128", "EVAL_SEQ_LEN=128",
            "TRAIN_BATCH_TOKENS=8192", "VAL_BATCH_TOKENS=32768");
    private static final int VAL_TOKENS = 4096;

    @TempDir
    static Path dir;
    static Path data;
    static Path weights;

    @BeforeAll
    static void weightsAndShards() throws IOException {
        data = Files.createDirectories(dir.resolve("data"));
        Path shards = SharedFiles.root().resolve("data/datasets/fineweb10B_sp1024");
        SharedFiles.unxz(shards.resolve("fineweb_train_000000.bin.xz"), data);
        SharedFiles.unxz(shards.resolve("fineweb_val_000000.bin.xz"), data);
        weights = dir.resolve("run/final_model.safetensors");
        Files.createDirectories(weights.getParent());
        // The model's knobs reach the weights' metadata only; quantize and eval must read them from there.
        ResolvedConfig trained = PgolfConfig.resolve(ConfigInputs.of(Optional.empty(), Map.of(), KNOBS));
        RealisticWeights.write(weights, trained, 3, 0.02, 2);
    }

    private static String[] args(String command, String... more) {
        List<String> all = new ArrayList<>(List.of(command, "--threads", "2", "--set", "VOCAB_SIZE=1024"));
        for (String knob : List.of("TRAIN_SEQ_LEN=128", "EVAL_SEQ_LEN=128", "TRAIN_BATCH_TOKENS=8192",
                "VAL_BATCH_TOKENS=32768", "GPTQ_CALIBRATION_BATCHES=2")) {
            all.add("--set");
            all.add(knob);
        }
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private static CliResult quantize(Path artifact, String... more) {
        List<String> rest = new ArrayList<>(List.of("--weights", weights.toString(), "--data", data.toString(),
                "--out", artifact.toString()));
        rest.addAll(List.of(more));
        return CliResult.run(args("quantize", rest.toArray(String[]::new)));
    }

    private static CliResult eval(Path artifact, String... more) {
        List<String> rest = new ArrayList<>(List.of("--artifact", artifact.toString(), "--data", data.toString(),
                "--tokenizer", SharedFiles.tokenizer(1024).toString(), "--val-tokens", String.valueOf(VAL_TOKENS)));
        rest.addAll(List.of(more));
        return CliResult.run(args("eval", rest.toArray(String[]::new)));
    }

    /** The dequantized artifact scored directly, as eval should: the model of the header, the loop on. */
    private static double expectedBpb(LoadedArtifact artifact) throws IOException {
        ResolvedConfig cfg = PgolfConfig.resolve(ConfigInputs.of(Optional.empty(), Map.of(), KNOBS));
        PlainEvaluation evaluation = PlainValidation.of(data, cfg.config(), tables(), Optional.of((long) VAL_TOKENS));
        return scoreDequantized(artifact, model -> evaluation.run(new GptScorer(model)).bitsPerByte());
    }

    private static double scoreDequantized(LoadedArtifact artifact, ToDoubleFunction<Gpt> score) {
        try (CpuBackend backend = new CpuBackend(2);
             Gpt model = Gpt.zeros(backend, artifact.header().architecture().layout("test"))) {
            artifact.model().loadInto(model.parameters());
            model.setLooping(true);
            return score.applyAsDouble(model);
        }
    }

    private static ByteTables tables() throws IOException {
        return ByteTables.of(SentencePieceModel.load(SharedFiles.tokenizer(1024)), 1024);
    }

    /** The line eval printed for a stage. */
    private static String stageLine(String out, String stage) {
        String prefix = String.format(Locale.ROOT, "pgolf eval: %-7s val_loss", stage);
        return out.lines().filter(line -> line.startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + stage + " line in\n" + out));
    }

    @Test
    void quantizesTheWeightsAndEvaluatesTheArtifact() throws IOException {
        Path artifact = dir.resolve("out/model.artifact");
        CliResult q = quantize(artifact, "--set", "COMPRESSOR=lzma");
        assertEquals(0, q.exit(), q.err() + q.out());
        assertTrue(q.out().contains("Hessians (2 batches)") && q.out().contains("compressed: the artifact (lzma)"), q.out());
        assertTrue(q.out().contains("loop on"), q.out());
        LoadedArtifact loaded = ArtifactReader.read(artifact);
        assertEquals("3", loaded.header().architecture().values().get("model.num-layers"));
        // GPTQ takes the matrices of more than 65,536 weights: the tied embedding [1024, 256] and the MLP's
        // [1024, 256] and [256, 1024]; attention's [256, 256] is exactly 65,536 and stays float16.
        List<String> gptq = loaded.model().tensors().stream().filter(t -> t instanceof QuantizedTensor.Codes)
                .map(QuantizedTensor::name).toList();
        List<String> expected = new ArrayList<>(List.of("tok_emb.weight"));
        for (int layer = 0; layer < 3; layer++) {
            expected.add("blocks." + layer + ".mlp.fc.weight");
            expected.add("blocks." + layer + ".mlp.proj.weight");
        }
        assertEquals(expected, gptq);
        Matcher total = Pattern.compile("total\\s+([\\d,]+) bytes of 16,000,000").matcher(q.out());
        assertTrue(total.find(), q.out());
        assertTrue(Long.parseLong(total.group(1).replace(",", "")) > Files.size(artifact));
        List<JournalEntry> journal = JournalReader.readAll(artifact.resolveSibling("quantize.journal")).entries();
        // The calibration batches the Quantizer received, then its summary and the artifact.
        assertEquals(List.of(TrainBatch.class, TrainBatch.class, QuantizationDone.class, ArtifactWritten.class),
                journal.stream().map(entry -> entry.message().getClass()).toList());
        ArtifactWritten written = (ArtifactWritten) journal.get(3).message();
        assertEquals(Files.size(artifact), written.modelBytes());
        assertEquals(7, ((QuantizationDone) journal.get(2).message()).gptqTensors());

        CliResult e = eval(artifact, "--set", "SLIDING_WINDOW_ENABLED=0");
        assertEquals(0, e.exit(), e.err() + e.out());
        assertTrue(stageLine(e.out(), "plain").contains(String.format(Locale.ROOT, "val_bpb %.6f", expectedBpb(loaded))),
                e.out());
        assertTrue(e.out().contains("loop on"), e.out());
        assertFalse(e.out().contains("pgolf eval: sliding") || e.out().contains("pgolf eval: ttt"), e.out());
        List<PipelineMessage> evaluation = JournalReader.readAll(artifact.resolveSibling("eval.journal")).entries()
                .stream().map(JournalEntry::message).toList();
        assertEquals(List.of(RunStarted.class, StageFinished.class, Evaluated.class, StageFinished.class),
                evaluation.stream().map(m -> (Class<?>) m.getClass()).toList());
        RunStarted started = (RunStarted) evaluation.getFirst();
        assertEquals(List.of(InputRole.ARTIFACT, InputRole.VAL_SHARD, InputRole.TOKENIZER),
                started.inputs().stream().map(InputFile::role).toList());
        assertEquals(ShardPublisher.sha256(artifact), started.inputs().getFirst().sha256());
        assertTrue(started.command().startsWith("pgolf eval ") && started.command().contains(" --artifact " + artifact),
                started.command());
    }

    /**
     * Sliding windows and score-first TTT after the plain evaluation: each equals its engine run on the dequantized
     * artifact, and the one journal of the three stages passes the audit.
     */
    @Test
    void evalRunsSlidingAndTttStagesIntoOneAuditableJournal() throws Exception {
        Path artifact = dir.resolve("ttt/model.artifact");
        assertEquals(0, quantize(artifact, "--set", "COMPRESSOR=zstd").exit());
        List<String> ttt = List.of("--set", "EVAL_STRIDE=64", "--set", "TTT_ENABLED=1", "--set", "TTT_CHUNK_TOKENS=1024",
                "--set", "TTT_EPOCHS=1", "--set", "TTT_BATCH_SEQS=4");
        CliResult e = eval(artifact, ttt.toArray(String[]::new));
        assertEquals(0, e.exit(), e.err() + e.out());

        LoadedArtifact loaded = ArtifactReader.read(artifact);
        ResolvedConfig cfg = PgolfConfig.resolve(ConfigInputs.of(Optional.empty(), Map.of(),
                Stream.concat(KNOBS.stream(), ttt.stream().filter(knob -> !knob.equals("--set"))).toList()));
        Tokens tokens = PlainValidation.tokens(data, 128, Optional.of((long) VAL_TOKENS));
        SlidingEvaluation sliding = new SlidingEvaluation(tokens, 128, 64, 32, tables());
        double slidingBpb = scoreDequantized(loaded, model -> sliding.run(new GptScorer(model)).bitsPerByte());
        double tttBpb = scoreDequantized(loaded, model -> {
            try (ScoreFirstTtt engine = new ScoreFirstTtt(model, tokens, 128, 64, cfg.config().ttt(), tables())) {
                return engine.run().bitsPerByte();
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        });
        assertTrue(stageLine(e.out(), "plain").contains(String.format(Locale.ROOT, "val_bpb %.6f", expectedBpb(loaded))),
                e.out());
        assertTrue(stageLine(e.out(), "sliding").contains(String.format(Locale.ROOT, "val_bpb %.6f", slidingBpb)),
                e.out());
        assertTrue(stageLine(e.out(), "ttt").contains(String.format(Locale.ROOT, "val_bpb %.6f", tttBpb)), e.out());
        assertTrue(stageLine(e.out(), "ttt").contains("4 chunks scored, 3 trained, record run"), e.out());

        Path journal = artifact.resolveSibling("eval.journal");
        assertFalse(Files.exists(artifact.resolveSibling("eval.journal.partial")));
        List<PipelineMessage> messages = JournalReader.readAll(journal).entries().stream().map(JournalEntry::message)
                .toList();
        assertEquals(List.of(EvaluationMethod.PLAIN, EvaluationMethod.SLIDING), messages.stream()
                .filter(Evaluated.class::isInstance).map(m -> ((Evaluated) m).method()).toList());
        assertEquals(List.of("load-artifact", "eval-plain", "eval-sliding", "eval-ttt"), messages.stream()
                .filter(StageFinished.class::isInstance).map(m -> ((StageFinished) m).stage()).toList());
        assertInstanceOf(TttFinished.class, messages.get(messages.size() - 2));
        CliResult audit = CliResult.run("audit", journal.toString());
        assertEquals(0, audit.exit(), audit.out());
        assertTrue(audit.out().contains("verdict: PASS"), audit.out());
    }

    @Test
    void refusesAnArtifactOverTheBudgetLeavingNoFile() throws IOException {
        Path artifact = dir.resolve("tight/model.artifact");
        CliResult q = quantize(artifact, "--set", "ARTIFACT_BUDGET_BYTES=100000", "--set", "COMPRESSOR=zstd");
        assertEquals(1, q.exit(), q.out());
        assertTrue(q.err().contains("artifact refused, nothing written") && q.err().contains("budget of 100,000 bytes"),
                q.err());
        assertFalse(Files.exists(artifact));

        // A second run in the same folder writes the artifact and continues the folder's journal.
        assertEquals(0, quantize(artifact, "--set", "COMPRESSOR=zstd").exit());
        assertTrue(Files.exists(artifact));
        assertEquals(List.of(TrainBatch.class, TrainBatch.class, QuantizationDone.class, ArtifactRefused.class,
                        TrainBatch.class, TrainBatch.class, QuantizationDone.class, ArtifactWritten.class),
                JournalReader.readAll(artifact.resolveSibling("quantize.journal")).entries().stream()
                        .map(entry -> entry.message().getClass()).toList());
    }

    @Test
    void evalRefusesACorruptArtifactOrAContradictingConfiguration() throws IOException {
        Path artifact = dir.resolve("corrupt/model.artifact");
        assertEquals(0, quantize(artifact, "--set", "COMPRESSOR=zstd").exit());
        CliResult conflict = eval(artifact, "--set", "MLP_MULT=3");
        assertEquals(1, conflict.exit(), conflict.err());
        assertTrue(conflict.err().contains("contradicts the model's architecture: model.mlp-mult = 3.0 (--set), but "
                + "artifact " + artifact + " has 4.0"), conflict.err());

        byte[] bytes = Files.readAllBytes(artifact);
        bytes[bytes.length - 1] ^= 1;
        Files.write(artifact, bytes);
        CliResult corrupt = eval(artifact);
        assertEquals(1, corrupt.exit());
        assertTrue(corrupt.err().contains(artifact + ": not a readable pgolf artifact: payload checksum mismatch"),
                corrupt.err());
    }

    /** Pre-quant TTT adapts the weights before GPTQ: asking eval (which only evaluates an artifact) for it fails. */
    @Test
    void evalRefusesPrequantTtt() {
        Path artifact = dir.resolve("never-read.artifact");
        CliResult r = eval(artifact, "--set", "PREQUANT_TTT_ENABLED=1");
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.err().contains("pgolf eval: error: PREQUANT_TTT_ENABLED is set, but pre-quant TTT trains the"
                + " weights before GPTQ: it runs in pgolf train"), r.err());
        assertFalse(Files.exists(artifact.resolveSibling(EvalCommand.JOURNAL)));
    }
}
