package io.pgolf.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgolf.protocol.DataPrepared;
import io.pgolf.protocol.InputFile;
import io.pgolf.protocol.InputRole;
import io.pgolf.protocol.JournalEntry;
import io.pgolf.protocol.JournalReader;
import io.pgolf.protocol.PipelineMessage;
import io.pgolf.protocol.RunStarted;
import io.pgolf.protocol.StageFinished;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoCommandTest {
    @TempDir
    Path tmp;

    /** The whole pipeline, shortened: 3 steps, the first 8,192 validation tokens (one TTT chunk). */
    @Test
    void demoRunsTheWholePipelineOnTheEmbeddedCorpusAndReportsEveryStage() throws IOException {
        Path run = tmp.resolve("run");
        CliResult r = CliResult.run("demo", "--out", run.toString(), "--steps", "3", "--val-tokens", "8192");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("1,250 docs, 5.08 MB of text -> 147,464 val + 2,360,194 train tokens in 4 shards"),
                r.out());
        assertTrue(r.out().contains("3 steps (iterations), 12,288 tokens"), r.out());
        double unigram = bpb(r.out(), "unigram baseline");
        assertTrue(unigram > 3 && unigram < Math.log(1024) / Math.log(2), "a unigram model must beat uniform: "
                + unigram);
        for (String stage : List.of("  live weights", "  post-EMA", "eval-plain", "eval-sliding", "eval-ttt")) {
            double bpb = bpb(r.out(), stage);
            assertTrue(bpb < Math.log(1024) / Math.log(2) + 1, stage + " is a trained model's score: " + bpb);
        }
        assertTrue(r.out().contains("score-first TTT, chunks scored 1, trained 0, record run"), r.out());

        List<PipelineMessage> messages = JournalReader.readAll(run.resolve("run.journal")).entries().stream()
                .map(JournalEntry::message).toList();
        RunStarted started = assertInstanceOf(RunStarted.class, messages.getFirst());
        assertEquals(List.of(InputRole.DOCUMENTS, InputRole.TOKENIZER),
                started.inputs().stream().map(InputFile::role).toList());
        // The prepare stage journals the shards it wrote, with the manifest's sha256.
        DataPrepared prepared = messages.stream().filter(DataPrepared.class::isInstance).map(DataPrepared.class::cast)
                .findFirst().orElseThrow();
        assertEquals(1250, prepared.documents());
        JsonNode manifest = new ObjectMapper().readTree(run.resolve("data/manifest.json").toFile()).get("files");
        assertEquals(4, prepared.shards().size());
        for (InputFile shard : prepared.shards()) {
            assertEquals(manifest.get(shard.name()).asText(), shard.sha256(), shard.name());
        }
        List<String> stages = messages.stream().filter(StageFinished.class::isInstance)
                .map(m -> ((StageFinished) m).stage()).toList();
        assertEquals(List.of("prepare", "train", "quantize", "load-artifact", "eval-plain", "eval-sliding", "eval-ttt"),
                stages);
        assertEquals(0, CliResult.run("audit", run.resolve("run.journal").toString()).exit());
        JsonNode report = new ObjectMapper().readTree(run.resolve("submission.json").toFile());
        assertEquals(bpb(r.out(), "eval-ttt"), report.get("val_bpb").asDouble(), 5e-5);
        assertEquals(Files.size(run.resolve("final_model.artifact")), report.get("bytes_model").asLong());
        assertEquals(0, CliResult.run("verify", run.resolve("data").toString()).exit());
    }

    /** A row's val_bpb, the second number after its label. */
    private static double bpb(String out, String label) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(label) + " +(\\d+\\.\\d{4}) +(\\d+\\.\\d{4})").matcher(out);
        assertTrue(m.find(), label + " missing in\n" + out);
        return Double.parseDouble(m.group(2));
    }
}
