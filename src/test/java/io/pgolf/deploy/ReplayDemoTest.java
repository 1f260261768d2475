package io.pgolf.deploy;

import io.pgolf.protocol.DataPrepared;
import io.pgolf.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A run that tokenized its corpus first (pgolf demo) replays from the corpus: prepare too is re-driven and compared. */
class ReplayDemoTest {
    @TempDir
    Path dir;

    @Test
    void theDemoPreparesItsShardsAgainAndReplaysBitForBit() throws IOException {
        Path journal = ReplayJournals.copy(ReplayJournals.DEMO, dir);
        Path corpus = dir.resolve("corpus.jsonl.xz");
        try (InputStream in = ReplayDemoTest.class.getResourceAsStream("/io/pgolf/demo/corpus.jsonl.xz")) {
            Files.copy(in, corpus);
        }
        CliResult refused = CliResult.run("replay", journal.toString(), "--data", dir.toString(), "--out",
                dir.resolve("refused").toString());
        assertEquals(1, refused.exit());
        assertTrue(refused.err().contains("the replay of this journal takes no --data: the recorded run prepared its"
                + " shards from documents"), refused.err());

        CliResult result = CliResult.run("replay", journal.toString(), "--docs", corpus.toString(), "--tokenizer",
                SharedFiles.tokenizer(1024).toString(), "--out", dir.resolve("replay").toString());
        result.out().lines().dropWhile(line -> !line.startsWith("stage ")).forEach(System.out::println);
        assertEquals(0, result.exit(), result.err() + result.out());
        long shards = ReplayJournals.entries(journal).stream().filter(e -> e.message() instanceof DataPrepared)
                .mapToLong(e -> ((DataPrepared) e.message()).shards().size()).sum();
        assertEquals(4, shards);
        assertEquals(String.format("%-16s %9s %9s  ", RunStages.PREPARE, 2, 2),
                ReplayJournals.row(result, RunStages.PREPARE));
        assertTrue(result.out().contains("verdict: EQUAL") && result.out().contains(" in 7 stages"), result.out());
    }
}
