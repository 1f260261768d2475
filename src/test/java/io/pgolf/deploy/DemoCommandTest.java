package io.pgolf.deploy;

import io.pgolf.protocol.JournalReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
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
        CliResult r = CliResult.run("demo", "--out", run.toString(), "--batches", "25");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("prepare            1,250 docs"), r.out());
        Matcher bpb = Pattern.compile("unigram baseline   val_loss (\\d+\\.\\d+)  val_bpb (\\d+\\.\\d+)").matcher(r.out());
        assertTrue(bpb.find(), r.out());
        double loss = Double.parseDouble(bpb.group(1));
        assertTrue(loss > 3 && loss < Math.log(1024), "a unigram model must beat uniform over 1024 tokens: " + loss);
        assertTrue(r.out().contains("25 batches of 16 x 256 tokens"), r.out());
        assertEquals(25, JournalReader.readAll(run.resolve("journal.pgj")).entries().size());
        assertEquals(0, CliResult.run("verify", run.resolve("data").toString()).exit());
    }
}
