package io.pgolf.deploy;

import io.pgolf.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainCommandTest {
    @TempDir
    Path tmp;

    @Test
    void aMissingShardFolderIsNamed() {
        Path missing = tmp.resolve("no-such-shards");
        CliResult r = CliResult.run("train", "--profile", "demo", "--data", missing.toString(),
                "--tokenizer", SharedFiles.tokenizer(1024).toString(), "--out", tmp.resolve("run").toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("shard folder " + missing + " does not exist"), r.err());
        assertFalse(Files.exists(tmp.resolve("run/final_model.safetensors")));
    }

    @Test
    void aTokenizerOfAnotherVocabularyIsRefusedBeforeTraining() {
        CliResult r = CliResult.run("train", "--profile", "demo", "--data", tmp.toString(),
                "--tokenizer", SharedFiles.tokenizer(8192).toString(), "--out", tmp.resolve("run").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("pgolf.data.vocab-size (VOCAB_SIZE): is 1024 but tokenizer"), r.err());
    }

    @Test
    void givingBothDocumentsAndShardsIsRefused() {
        CliResult r = CliResult.run("train", "--docs", "a.jsonl", "--data", "b");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("give --docs or --data, not both"), r.err());
    }
}
