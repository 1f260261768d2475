package io.pgolf.data.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgolf.testing.SharedFiles;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every corpus document must encode to exactly the ids the challenge's exporter wrote in the shards. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SentencePieceCorpusTest {
    private static final int REPORTED_MISMATCHES = 5;

    private List<String> documents;

    @BeforeAll
    void readCorpus() throws Exception {
        documents = CorpusOracle.documents();
        assertEquals(14_085, documents.size(), "documents in the shared corpus");
    }

    @ParameterizedTest(name = "sp{0}")
    @ValueSource(ints = {1024, 8192})
    void everyDocumentMatchesTheExportedShards(int vocab) throws Exception {
        SentencePieceModel model = SentencePieceModel.load(SharedFiles.tokenizer(vocab));
        List<int[]> expected = CorpusOracle.expectedIds(vocab);
        assertEquals(documents.size(), expected.size(), "documents in the sp" + vocab + " shards");

        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        List<String> mismatches = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<List<String>>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                parts.add(pool.submit(() -> {
                    List<String> found = new ArrayList<>();
                    for (int doc = first; doc < documents.size(); doc += threads) {
                        int[] actual = model.encode(documents.get(doc));
                        if (!Arrays.equals(expected.get(doc), actual)) {
                            found.add(describe(model, doc, expected.get(doc), actual));
                        }
                    }
                    return found;
                }));
            }
            for (Future<List<String>> part : parts) {
                mismatches.addAll(part.get());
            }
        }
        assertTrue(mismatches.isEmpty(), mismatches.size() + " of " + documents.size()
                + " documents differ for sp" + vocab + ", e.g.:\n"
                + String.join("\n", mismatches.subList(0, Math.min(REPORTED_MISMATCHES, mismatches.size()))));
    }

    private static String describe(SentencePieceModel model, int doc, int[] expected, int[] actual) {
        int at = Arrays.mismatch(expected, actual);
        return "doc " + doc + ": first difference at token " + at + " (expected " + expected.length
                + " tokens, got " + actual.length + ")\n  expected: " + pieces(model, expected, at)
                + "\n  actual:   " + pieces(model, actual, at);
    }

    private static String pieces(SentencePieceModel model, int[] ids, int at) {
        StringBuilder out = new StringBuilder();
        for (int i = Math.max(0, at - 3); i < Math.min(ids.length, at + 4); i++) {
            out.append(i == at ? "[" : "").append(model.idToPiece(ids[i])).append('=').append(ids[i])
                    .append(i == at ? "] " : " ");
        }
        return out.toString().trim();
    }
}
