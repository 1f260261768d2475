package io.pgolf.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.pgolf.actors.QuantizePipeline;
import io.pgolf.config.ResolvedConfig;
import io.pgolf.config.Setting;
import io.pgolf.data.artifact.ArtifactBudget;
import io.pgolf.data.artifact.LoadedArtifact;
import io.pgolf.protocol.ArtifactWritten;
import io.pgolf.protocol.Evaluated;
import io.pgolf.protocol.PrequantTttTrained;
import io.pgolf.protocol.QuantizationDone;
import io.pgolf.protocol.RunKind;
import io.pgolf.protocol.StageFinished;
import io.pgolf.protocol.TrainingFinished;
import io.pgolf.protocol.TttFinished;
import io.pgolf.protocol.ValidationReport;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * What a run measured, stage by stage: written as {@code submission.json} (the challenge's field names where it has
 * them: val_bpb, val_loss, bytes_total, train_time_seconds) and printed as the table that ends a run.
 *
 * @param runKind        NON_RECORD when pre-quant TTT trained the weights on validation tokens before GPTQ (whether
 *                       or not a TTT evaluation followed), when the TTT evaluation says so, or when the artifact is
 *                       larger than the challenge's 16,000,000 bytes (a raised ARTIFACT_BUDGET_BYTES let it be
 *                       written); RECORD otherwise
 * @param fullValidation whether every validation token was scored; a run on a prefix reports a bpb that is not the
 *                       challenge's
 * @param rows           the table, in pipeline order; the last row with a bpb holds the run's score
 */
record RunReport(String name, RunKind runKind, boolean fullValidation, List<Row> rows,
                 Optional<ArtifactWritten> artifact, TrainingFinished training, List<StageFinished> stages,
                 String hardware, Map<String, Object> config) {
    private static final String ROW = "%-16s %9s %9s %12s %9s  %s%n";

    /**
     * A line of the table.
     *
     * @param key    the name of its bpb in submission.json ({@code val_bpb_<key>}), when it has one
     * @param detail what the stage did, in words
     */
    record Row(String label, String key, String detail, OptionalDouble valLoss, OptionalDouble valBpb,
               OptionalLong bytes, OptionalDouble seconds) {
        static Row score(String label, String key, String detail, double valLoss, double valBpb,
                         OptionalDouble seconds) {
            return new Row(label, key, detail, OptionalDouble.of(valLoss), OptionalDouble.of(valBpb),
                    OptionalLong.empty(), seconds);
        }

        static Row stage(String label, String detail, OptionalLong bytes, OptionalDouble seconds) {
            return new Row(label, "", detail, OptionalDouble.empty(), OptionalDouble.empty(), bytes, seconds);
        }
    }

    /** Everything a run produced; the stages it did not run are empty. */
    record Results(Optional<PrepareCommand.Prepared> prepared, TrainingFinished training,
                   List<ValidationReport> validations, Optional<PrequantTttTrained> prequant,
                   Optional<QuantizePipeline.Outcome> quantized,
                   Optional<LoadedArtifact> loaded, Optional<Evaluated> plain, Optional<Evaluated> sliding,
                   Optional<TttFinished> ttt, List<StageFinished> stages) {
    }

    static RunReport of(String name, Results r, ResolvedConfig resolved, String hardware, boolean fullValidation) {
        List<Row> rows = new ArrayList<>();
        r.prepared().ifPresent(p -> rows.add(Row.stage("prepare", String.format(Locale.ROOT, "%,d docs, %.2f MB of "
                        + "text -> %,d val + %,d train tokens in %d shards", p.documents(), p.textBytes() / 1e6,
                p.valTokens(), p.trainTokens(), p.shards()), OptionalLong.empty(), seconds(r, RunStages.PREPARE))));
        TrainingFinished t = r.training();
        rows.add(Row.stage("train", String.format(Locale.ROOT, "%d steps (%s), %,d tokens in %.1f s, %,.0f tokens/s",
                t.steps(), t.stopReason(), t.tokensSeen(), t.trainSeconds(),
                t.trainSeconds() > 0 ? t.tokensSeen() / t.trainSeconds() : 0), OptionalLong.empty(), seconds(r, RunStages.TRAIN)));
        r.validations().stream().filter(v -> !v.emaWeights()).reduce((first, last) -> last).ifPresent(v ->
                rows.add(Row.score("  live weights", "live", "after step " + v.step(), v.valLoss(), v.valBpb(),
                        OptionalDouble.empty())));
        r.validations().stream().filter(ValidationReport::emaWeights).reduce((first, last) -> last).ifPresent(v ->
                rows.add(Row.score("  post-EMA", "post_ema", "EMA of the weights, written", v.valLoss(), v.valBpb(),
                        OptionalDouble.empty())));
        r.prequant().ifPresent(p -> rows.add(Row.stage(RunStages.PREQUANT, String.format(Locale.ROOT, "AdamW on the"
                        + " validation tokens %s: %d epochs, %d steps, last epoch loss %.4f; non-record",
                p.tokensRead(), p.epochs(), p.optimizerSteps(), p.epochLosses().isEmpty() ? Double.NaN
                        : p.epochLosses().getLast()), OptionalLong.empty(), seconds(r, RunStages.PREQUANT))));
        r.quantized().ifPresent(q -> {
            QuantizationDone gptq = q.quantization();
            ArtifactWritten w = (ArtifactWritten) q.artifact();
            rows.add(Row.stage("quantize", String.format(Locale.ROOT, "GPTQ %d matrices (Hessians %.1f s, GPTQ %.1f s),"
                            + " %d float16; %s %.1f s", gptq.gptqTensors(), gptq.hessianSeconds(), gptq.gptqSeconds(),
                    gptq.float16Tensors(), w.compressor(), w.compressSeconds()), OptionalLong.of(w.modelBytes()),
                    seconds(r, RunStages.QUANTIZE)));
            rows.add(Row.stage("  code", "pgolf's evaluation code, " + w.compressor(), OptionalLong.of(w.codeBytes()),
                    OptionalDouble.empty()));
            rows.add(Row.stage("  total", String.format(Locale.ROOT, "of the budget of %,d", w.budgetBytes()),
                    OptionalLong.of(w.totalBytes()), OptionalDouble.empty()));
        });
        r.loaded().ifPresent(l -> rows.add(Row.stage(EvaluationStages.LOAD, String.format(Locale.ROOT,
                "read back and dequantized (decompressed in %.2f s)", l.decompressSeconds()), OptionalLong.empty(),
                seconds(r, EvaluationStages.LOAD))));
        r.plain().ifPresent(e -> rows.add(evaluation(EvaluationStages.PLAIN, "quantized", e, r)));
        r.sliding().ifPresent(e -> rows.add(evaluation(EvaluationStages.SLIDING, "sliding", e, r)));
        r.ttt().ifPresent(f -> rows.add(Row.score(EvaluationStages.TTT, "ttt", String.format(Locale.ROOT,
                "score-first TTT, chunks scored %d, trained %d, %s run", f.chunksScored(), f.chunksTrained(),
                describe(f.runKind())), f.valLoss(), f.valBpb(), seconds(r, EvaluationStages.TTT))));
        Map<String, Object> config = new LinkedHashMap<>();
        for (Setting setting : resolved.settings()) {
            config.put(setting.knob().envName(), setting.value().unwrapped());
        }
        boolean overChallengeSize = r.quantized().map(q -> (ArtifactWritten) q.artifact())
                .filter(w -> w.totalBytes() > ArtifactBudget.CHALLENGE_BYTES).isPresent();
        RunKind runKind = r.prequant().isPresent() || overChallengeSize ? RunKind.NON_RECORD
                : r.ttt().map(TttFinished::runKind).orElse(RunKind.RECORD);
        return new RunReport(name, runKind, fullValidation,
                List.copyOf(rows), r.quantized().map(q -> (ArtifactWritten) q.artifact()), t, r.stages(), hardware,
                config);
    }

    private static Row evaluation(String stage, String key, Evaluated e, Results r) {
        return Row.score(stage, key, String.format(Locale.ROOT, "%,d windows of %d, stride %d, %,d tokens", e.windows(),
                e.seqLen(), e.stride(), e.tokens()), e.valLoss(), e.valBpb(), seconds(r, stage));
    }

    private static OptionalDouble seconds(Results r, String stage) {
        return r.stages().stream().filter(s -> s.stage().equals(stage)).mapToDouble(StageFinished::seconds)
                .findFirst();
    }

    private static String describe(RunKind kind) {
        return kind == RunKind.RECORD ? "record" : "non-record";
    }

    /** The row that holds the run's score: its last evaluation. */
    Row score() {
        return rows.reversed().stream().filter(row -> row.valBpb().isPresent()).findFirst()
                .orElseThrow(() -> new IllegalStateException("run " + name + " has no score"));
    }

    double totalSeconds() {
        return stages.stream().mapToDouble(StageFinished::seconds).sum();
    }

    /** submission.json's content, keys in a fixed order. */
    Map<String, Object> json() {
        Map<String, Object> json = new LinkedHashMap<>();
        Row score = score();
        json.put("name", name);
        json.put("run_kind", describe(runKind));
        json.put("val_bpb", score.valBpb().getAsDouble());
        json.put("val_loss", score.valLoss().getAsDouble());
        json.put("val_bpb_stage", score.label().strip());
        json.put("full_validation", fullValidation);
        artifact.ifPresent(w -> {
            json.put("bytes_total", w.totalBytes());
            json.put("bytes_model", w.modelBytes());
            json.put("bytes_code", w.codeBytes());
            json.put("bytes_budget", w.budgetBytes());
            json.put("compressor", w.compressor());
        });
        json.put("train_time_seconds", training.trainSeconds());
        json.put("train_steps", training.steps());
        json.put("train_tokens", training.tokensSeen());
        for (Row row : rows) {
            if (row.valBpb().isPresent()) {
                json.put("val_bpb_" + row.key(), row.valBpb().getAsDouble());
                json.put("val_loss_" + row.key(), row.valLoss().getAsDouble());
            }
        }
        Map<String, Double> seconds = new LinkedHashMap<>();
        stages.forEach(stage -> seconds.put(stage.stage(), stage.seconds()));
        json.put("stage_seconds", seconds);
        json.put("total_seconds", totalSeconds());
        json.put("hardware", hardware);
        json.put("date", OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS).toString());
        json.put("config", config);
        return json;
    }

    /** Writes submission.json under a temporary name and renames it into place. */
    void write(Path file) throws IOException {
        AtomicFiles.writeString(file, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json()));
    }

    /** The table: every stage's val_loss, val_bpb, bytes and seconds, and what it did. */
    void print(PrintWriter out) {
        out.printf(Locale.ROOT, ROW, "stage", "val_loss", "val_bpb", "bytes", "seconds", "");
        rows.forEach(row -> printRow(out, row));
        Row score = score();
        printRow(out, new Row("run", "", String.format(Locale.ROOT, "%s run, score of %s%s", describe(runKind),
                score.label().strip(), fullValidation ? "" : ", on a prefix of the validation tokens (not the "
                        + "challenge's bpb)"), score.valLoss(), score.valBpb(),
                artifact.map(w -> OptionalLong.of(w.totalBytes())).orElse(OptionalLong.empty()),
                OptionalDouble.of(totalSeconds())));
        out.flush();
    }

    /** One line in the table's columns. */
    static void printRow(PrintWriter out, Row row) {
        out.printf(Locale.ROOT, ROW, row.label(), number(row.valLoss(), "%.4f"), number(row.valBpb(), "%.4f"),
                row.bytes().isPresent() ? String.format(Locale.ROOT, "%,d", row.bytes().getAsLong()) : "",
                number(row.seconds(), "%.1f"), row.detail());
    }

    private static String number(OptionalDouble value, String format) {
        return value.isPresent() ? String.format(Locale.ROOT, format, value.getAsDouble()) : "";
    }
}
