package io.pgolf.deploy;

import io.pgolf.protocol.JournalReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DemoCommandTest {
    @TempDir
    Path tmp;

    @Test
    void demoRunsOnTheEmbeddedCorpusAndReportsEveryStage() throws IOException {
        Path run = tmp.resolve("run");
        CliResult r = CliResult.run("demo", "--out", run.toString(), "--steps", "3", "--val-tokens", "8192");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("prepare            1,250 docs"), r.out());
        double unigram = loss(r.out(), "unigram baseline  ");
        assertTrue(unigram > 3 && unigram < Math.log(1024), "a unigram model must beat uniform over 1024 tokens: " + unigram);
        assertTrue(r.out().contains("training           3 steps, 12,288 tokens"), r.out());
        double trained = loss(r.out(), "trained           ");
        assertTrue(trained < Math.log(1024), "three steps must move the model off uniform: " + trained);
        loss(r.out(), "trained, post-EMA ");
        // 2 warm-up steps, 2 more with the loop on, 3 steps, the last validated with live and EMA weights, the end,
        // the stage's end.
        assertEquals(4 + 3 + 2 + 1 + 1, JournalReader.readAll(run.resolve("run.journal")).entries().size());
        assertTrue(Files.size(run.resolve("final_model.safetensors")) > 0);
        assertEquals(0, CliResult.run("verify", run.resolve("data").toString()).exit());
    }

    private static double loss(String out, String stage) {
        Matcher m = Pattern.compile(Pattern.quote(stage) + " val_loss (\\d+\\.\\d+)  val_bpb (\\d+\\.\\d+)").matcher(out);
        assertTrue(m.find(), stage + " missing in\n" + out);
        return Double.parseDouble(m.group(1));
    }
}
