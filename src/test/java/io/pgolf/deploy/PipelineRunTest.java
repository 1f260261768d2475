package io.pgolf.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgolf.data.SafeTensors;
import io.pgolf.data.artifact.ArchitectureKnobs;
import io.pgolf.data.artifact.ArtifactReader;
import io.pgolf.data.artifact.LoadedArtifact;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.protocol.ArtifactWritten;
import io.pgolf.protocol.ChunkScored;
import io.pgolf.protocol.Evaluated;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.PipelineMessage;
import io.pgolf.protocol.PrequantTttTrained;
import io.pgolf.protocol.RunKind;
import io.pgolf.protocol.RunStarted;
import io.pgolf.protocol.StageFinished;
import io.pgolf.protocol.TttFinished;
import io.pgolf.protocol.TttStarted;
import io.pgolf.protocol.ValidationReport;
import io.pgolf.testing.SharedFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pgolf train as one run of every stage, on a small model and the shared sp1024 shards. */
class PipelineRunTest {
    /** The demo's architecture at 2 layers, 2 steps, one calibration batch, TTT over 4 chunks of 256 tokens. */
    private static final List<String> KNOBS = List.of("NUM_LAYERS=2", "LOOP_END=1", "ITERATIONS=2", "WARMUP_STEPS=1",
            "TRAIN_BATCH_TOKENS=2048", "GPTQ_CALIBRATION_BATCHES=1", "TTT_ENABLED=1", "TTT_CHUNK_TOKENS=256",
            "TTT_EPOCHS=1", "TTT_BATCH_SEQS=2");

    @TempDir
    static Path dir;
    static Path data;

    @BeforeAll
    static void shards() throws IOException {
        data = Files.createDirectories(dir.resolve("data"));
        Path shards = SharedFiles.root().resolve("data/datasets/fineweb10B_sp1024");
        SharedFiles.unxz(shards.resolve("fineweb_train_000000.bin.xz"), data);
        SharedFiles.unxz(shards.resolve("fineweb_val_000000.bin.xz"), data);
    }

    private static CliResult train(Path run, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--profile", "demo", "--data", data.toString(),
                "--tokenizer", SharedFiles.tokenizer(1024).toString(), "--out", run.toString(), "--threads", "2",
                "--val-tokens", "1024"));
        for (String knob : KNOBS) {
            args.add("--set");
            args.add(knob);
        }
        args.addAll(List.of(more));
        return CliResult.run(args.toArray(String[]::new));
    }

    private static List<PipelineMessage> messages(Path journal) throws IOException {
        return JournalReader.readAll(journal).entries().stream().map(JournalEntry::message).toList();
    }

    private static <T> List<T> of(List<PipelineMessage> messages, Class<T> type) {
        return messages.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /**
     * Every stage in order under one guardian, one journal the audit passes, and a report whose figures are the
     * journal's: each stage's bpb, the artifact's bytes, the final score TTT's.
     */
    @Test
    void aRunTrainsQuantizesEvaluatesAndReportsEveryStage() throws Exception {
        Path run = dir.resolve("run");
        CliResult r = train(run);
        assertEquals(0, r.exit(), r.err() + r.out());

        List<PipelineMessage> messages = messages(run.resolve("run.journal"));
        RunStarted started = assertInstanceOf(RunStarted.class, messages.getFirst());
        assertTrue(started.command().startsWith("pgolf train --profile demo --data " + data), started.command());
        assertEquals(Files.readString(run.resolve("config.conf")), started.config());
        assertEquals("cpu x2", started.backend());
        assertEquals(1024, started.valTokens());
        JsonNode manifest = new ObjectMapper().readTree(SharedFiles.manifest().toFile()).get("variants").get("sp1024");
        List<String> inputs = started.inputs().stream().map(f -> f.role() + " " + f.name() + " " + f.sha256()).toList();
        assertEquals(List.of(
                "TRAIN_SHARD fineweb_train_000000.bin " + sha256Of(manifest, "fineweb_train_000000.bin"),
                "VAL_SHARD fineweb_val_000000.bin " + sha256Of(manifest, "fineweb_val_000000.bin"),
                "TOKENIZER fineweb_1024_bpe.model " + manifest.get("tokenizer_sha256").asText()), inputs);
        assertEquals(List.of("train", "quantize", "load-artifact", "eval-plain", "eval-sliding", "eval-ttt"),
                of(messages, StageFinished.class).stream().map(StageFinished::stage).toList());
        ValidationReport ema = of(messages, ValidationReport.class).getLast();
        ArtifactWritten artifact = of(messages, ArtifactWritten.class).getFirst();
        List<Evaluated> evaluations = of(messages, Evaluated.class);
        TttFinished ttt = of(messages, TttFinished.class).getFirst();
        assertTrue(ema.emaWeights());
        assertEquals(Files.size(run.resolve("final_model.artifact")), artifact.modelBytes());
        assertEquals(0, CliResult.run("audit", run.resolve("run.journal").toString()).exit());

        JsonNode report = new ObjectMapper().readTree(run.resolve("submission.json").toFile());
        assertEquals("record", report.get("run_kind").asText());
        assertFalse(report.get("full_validation").asBoolean());
        assertEquals(ttt.valBpb(), report.get("val_bpb").asDouble());
        assertEquals(ttt.valLoss(), report.get("val_loss").asDouble());
        assertEquals(ema.valBpb(), report.get("val_bpb_post_ema").asDouble());
        assertEquals(evaluations.get(0).valBpb(), report.get("val_bpb_quantized").asDouble());
        assertEquals(evaluations.get(1).valBpb(), report.get("val_bpb_sliding").asDouble());
        assertEquals(artifact.totalBytes(), report.get("bytes_total").asLong());
        assertEquals(artifact.modelBytes(), report.get("bytes_model").asLong());
        assertEquals(artifact.codeBytes(), report.get("bytes_code").asLong());
        List<String> stages = new ArrayList<>();
        report.get("stage_seconds").fieldNames().forEachRemaining(stages::add);
        assertEquals(of(messages, StageFinished.class).stream().map(StageFinished::stage).toList(), stages);
        assertEquals(2, report.get("config").get("NUM_LAYERS").asInt());
        assertEquals(2, report.get("train_steps").asInt());

        assertTrue(r.out().contains(String.format(Locale.ROOT, "eval-ttt         %9.4f %9.4f", ttt.valLoss(),
                ttt.valBpb())), r.out());
        assertTrue(r.out().contains(String.format(Locale.ROOT, "%-16s %9s %9s %,12d", "  total", "", "",
                artifact.totalBytes())), r.out());
    }

    /**
     * Pre-quant TTT runs as a stage of its own between training and GPTQ, as seeds/001 does: the artifact holds its
     * adapted weights (a tensor kept as float16 is exactly theirs), its training precedes every score, the run and its
     * TTT evaluation are non-record, and the audit names that training as breaking score before update.
     */
    @Test
    void aPrequantRunQuantizesTheAdaptedWeightsAndIsNonRecord() throws Exception {
        Path run = dir.resolve("prequant");
        CliResult r = train(run, "--set", "PREQUANT_TTT_ENABLED=1", "--set", "PREQUANT_TTT_EPOCHS=1");
        assertEquals(0, r.exit(), r.err() + r.out());

        List<JournalEntry> entries = JournalReader.readAll(run.resolve("run.journal")).entries();
        List<PipelineMessage> messages = entries.stream().map(JournalEntry::message).toList();
        assertEquals(List.of("train", "prequant-ttt", "quantize", "load-artifact", "eval-plain", "eval-sliding",
                "eval-ttt"), of(messages, StageFinished.class).stream().map(StageFinished::stage).toList());
        JournalEntry prequant = entries.stream().filter(e -> e.message() instanceof PrequantTttTrained).findFirst()
                .orElseThrow();
        int firstScore = messages.indexOf(messages.stream().filter(m -> m instanceof Evaluated
                || m instanceof ChunkScored).findFirst().orElseThrow());
        assertTrue(prequant.seq() < firstScore, "pre-quant TTT at seq " + prequant.seq() + ", first score at "
                + firstScore);
        TttStarted started = of(messages, TttStarted.class).getFirst();
        assertEquals(RunKind.NON_RECORD, started.runKind());
        assertEquals(1, started.weightsVersion());
        JsonNode report = new ObjectMapper().readTree(run.resolve("submission.json").toFile());
        assertEquals("non-record", report.get("run_kind").asText());

        CliResult audit = CliResult.run("audit", run.resolve("run.journal").toString());
        assertEquals(1, audit.exit(), audit.out());
        assertTrue(audit.out().contains("3 score before update  FAIL  seq " + prequant.seq()
                + " PrequantTttTrained(tokens [0, 1025), 1 epochs, weights version 0 -> 1)"), audit.out());

        String name = "blocks.0.attn_scale";
        float[] ema = weights(run.resolve("final_model.safetensors")).get(name);
        float[] adapted = weights(run.resolve("prequant_ttt_model.safetensors")).get(name);
        assertFalse(Arrays.equals(ema, adapted), "pre-quant TTT left " + name + " as training made it");
        LoadedArtifact artifact = ArtifactReader.read(run.resolve("final_model.artifact"));
        try (CpuBackend backend = new CpuBackend(1);
             Gpt model = Gpt.zeros(backend, artifact.header().architecture().layout("test artifact"))) {
            artifact.model().loadInto(model.parameters());
            float[] quantized = model.parameters().valuesOnHost().get(name);
            for (int i = 0; i < adapted.length; i++) {
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(adapted[i])), quantized[i], name + "[" + i + "]");
            }
        }
    }

    private static String sha256Of(JsonNode manifest, String shard) {
        return manifest.get("files").get("datasets/fineweb10B_sp1024/" + shard).asText();
    }

    private static Map<String, float[]> weights(Path file) {
        try (SafeTensors tensors = SafeTensors.open(file);
             CpuBackend backend = new CpuBackend(1);
             Gpt model = Gpt.zeros(backend, ArchitectureKnobs.fromListing(
                     tensors.metadata().get(TrainedModel.CONFIG_METADATA), file.toString()).layout(file.toString()))) {
            model.parameters().loadFrom(tensors, "");
            return model.parameters().valuesOnHost();
        }
    }

    @Test
    void noQuantizeStopsAfterTrainingAndReportsThePostEmaScore() throws Exception {
        Path run = dir.resolve("trained-only");
        CliResult r = train(run, "--no-quantize");
        assertEquals(0, r.exit(), r.err() + r.out());
        List<PipelineMessage> messages = messages(run.resolve("run.journal"));
        assertEquals(List.of("train"), of(messages, StageFinished.class).stream().map(StageFinished::stage).toList());
        assertFalse(Files.exists(run.resolve("final_model.artifact")));
        JsonNode report = new ObjectMapper().readTree(run.resolve("submission.json").toFile());
        assertEquals(of(messages, ValidationReport.class).getLast().valBpb(), report.get("val_bpb").asDouble());
        assertFalse(report.has("bytes_total"));
    }

    @Test
    void aRefusedArtifactFailsTheRunAtTheQuantizeStage() throws Exception {
        Path run = dir.resolve("refused");
        CliResult r = train(run, "--set", "ARTIFACT_BUDGET_BYTES=1000");
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.err().contains("stage quantize failed: ") && r.err().contains("artifact refused"), r.err());
        assertFalse(Files.exists(run.resolve("final_model.artifact")));
        assertFalse(Files.exists(run.resolve("submission.json")));
        assertEquals(List.of("train"), of(messages(run.resolve("run.journal")), StageFinished.class).stream()
                .map(StageFinished::stage).toList());

        CliResult again = train(run);
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("run folder " + run + " already holds a run"), again.err());
    }
}
