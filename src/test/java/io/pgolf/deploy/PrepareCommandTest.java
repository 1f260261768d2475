package io.pgolf.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgolf.data.corpus.ShardPublisher;
import io.pgolf.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrepareCommandTest {
    @TempDir
    Path tmp;

    /** The acceptance check: byte-identical shards to the challenge exporter's, for both vocabularies. */
    @ParameterizedTest
    @ValueSource(ints = {1024, 8192})
    void sharedCorpusGivesTheManifestShards(int vocab) throws IOException {
        Path out = tmp.resolve("sp" + vocab);
        CliResult r = CliResult.run("prepare", "--docs", SharedFiles.corpus().toString(), "--tokenizer", SharedFiles.tokenizer(vocab).toString(),
                "--out", out.toString(), "--val-docs", "1000", "--shard-tokens", "4000000");
        assertEquals(0, r.exit(), r.err());

        JsonNode variant = new ObjectMapper().readTree(SharedFiles.manifest().toFile()).path("variants").path("sp" + vocab);
        Map<String, String> expected = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = variant.path("files").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            expected.put(Path.of(e.getKey()).getFileName().toString(), e.getValue().asText());
        }
        Map<String, String> actual = new TreeMap<>();
        try (Stream<Path> files = Files.list(out)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".bin")).toList()) {
                actual.put(f.getFileName().toString(), ShardPublisher.sha256(f));
            }
        }
        assertEquals(expected, actual);

        JsonNode written = new ObjectMapper().readTree(out.resolve("manifest.json").toFile());
        assertEquals(variant.path("tokens").path("val").asLong(), written.path("tokens").path("val").asLong());
        assertEquals(variant.path("tokens").path("train").asLong(), written.path("tokens").path("train").asLong());
        assertEquals(14_085, written.path("docs").asLong());
        CliResult verify = CliResult.run("verify", out.toString());
        assertEquals(0, verify.exit(), verify.err());
    }

    @Test
    void lineThatIsNotJsonNamesFileAndLineAndLeavesNothing() throws IOException {
        Path docs = corpus("{\"text\": \"hello world\"}", "{\"text\": \"second\"}", "this is not json", "{\"text\": \"four\"}");
        assertFailsCleanly(docs, docs + ":3: not JSON");
    }

    @Test
    void documentWithoutTextNamesTheField() throws IOException {
        Path docs = corpus("{\"text\": \"hello\"}", "{\"body\": \"no text here\"}");
        assertFailsCleanly(docs, docs + ":2: document has no \"text\" field");
    }

    @Test
    void textThatIsNotAStringNamesTheField() throws IOException {
        Path docs = corpus("{\"text\": 42}");
        assertFailsCleanly(docs, docs + ":1: field \"text\" is VALUE_NUMBER_INT, expected a string");
    }

    @Test
    void failedRunKeepsTheShardsOfAnEarlierRun() throws IOException {
        Path out = tmp.resolve("out");
        Path good = corpus("{\"text\": \"the first document\"}", "{\"text\": \"and the second one\"}");
        assertEquals(0, prepare(good, out).exit());
        byte[] before = Files.readAllBytes(out.resolve("fineweb_val_000000.bin"));

        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"text\": \"fine\"}\n{oops\n");
        CliResult r = prepare(bad, out);
        assertEquals(1, r.exit());
        assertTrue(r.err().contains(bad + ":2: not JSON"), r.err());
        assertEquals(Map.of("fineweb_train_000000.bin", true, "fineweb_val_000000.bin", true, "manifest.json", true), listing(out));
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(out.resolve("fineweb_val_000000.bin"))));
    }

    @Test
    void fewerDocumentsThanTheValidationSplitIsAnError() throws IOException {
        Path docs = corpus("{\"text\": \"only one\"}");
        Path out = tmp.resolve("out");
        CliResult r = CliResult.run("prepare", "--docs", docs.toString(), "--tokenizer", SharedFiles.tokenizer(1024).toString(),
                "--out", out.toString(), "--val-docs", "5");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("holds 1 documents, fewer than the 5"), r.err());
        assertEquals(Map.of(), listing(out));
    }

    @Test
    void tokenizerNotMatchingTheConfiguredVocabularyNamesBoth() throws IOException {
        Path docs = corpus("{\"text\": \"hello\"}");
        Path out = tmp.resolve("out");
        Path tokenizer = SharedFiles.tokenizer(1024);
        CliResult r = CliResult.run("prepare", "--docs", docs.toString(), "--tokenizer", tokenizer.toString(), "--out", out.toString(),
                "--val-docs", "1", "--set", "VOCAB_SIZE=8192");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("pgolf.data.vocab-size (VOCAB_SIZE)"), r.err());
        assertTrue(r.err().contains("is 8192 but tokenizer " + tokenizer + " has 1024 pieces"), r.err());
        assertEquals(Map.of(), listing(out));
    }

    @Test
    void malformedTokenizerNamesTheFile() throws IOException {
        Path docs = corpus("{\"text\": \"hello\"}");
        Path model = tmp.resolve("broken.model");
        Files.write(model, java.util.Arrays.copyOf(Files.readAllBytes(SharedFiles.tokenizer(1024)), 5000));
        Path out = tmp.resolve("out");
        CliResult r = CliResult.run("prepare", "--docs", docs.toString(), "--tokenizer", model.toString(), "--out", out.toString(), "--val-docs", "1");
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains(model.toString()), r.err());
        assertEquals(Map.of(), listing(out));
    }

    private void assertFailsCleanly(Path docs, String expectedMessage) throws IOException {
        Path out = tmp.resolve("out");
        CliResult r = prepare(docs, out);
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains(expectedMessage), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertEquals(Map.of(), listing(out));
    }

    private CliResult prepare(Path docs, Path out) {
        return CliResult.run("prepare", "--docs", docs.toString(), "--tokenizer", SharedFiles.tokenizer(1024).toString(),
                "--out", out.toString(), "--val-docs", "1", "--shard-tokens", "1000");
    }

    private Path corpus(String... lines) throws IOException {
        Path docs = tmp.resolve("docs.jsonl");
        Files.writeString(docs, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return docs;
    }

    /** Every entry of {@code dir}, hidden staging folders included (name -> is a regular file). */
    private static Map<String, Boolean> listing(Path dir) throws IOException {
        Map<String, Boolean> names = new TreeMap<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                s.forEach(p -> names.put(p.getFileName().toString(), Files.isRegularFile(p)));
            }
        }
        return names;
    }

}
