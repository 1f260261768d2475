package io.pgolf.data.tokenizer;

import io.pgolf.testing.SharedFiles;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Prints single-thread encoding throughput over the whole shared corpus, per vocabulary (a measurement,
 * not a test). Run with the test classpath and {@code -Dpgolf.shared=...}; optional argument: passes
 * (default 3, the first one counts as warm-up).
 */
public final class EncodeThroughput {
    private EncodeThroughput() {
    }

    public static void main(String[] args) throws Exception {
        int passes = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        List<String> documents = CorpusOracle.documents();
        long utf8Bytes = 0;
        for (String doc : documents) {
            utf8Bytes += doc.getBytes(StandardCharsets.UTF_8).length;
        }
        System.out.printf("corpus: %d documents, %.1f MB of UTF-8%n", documents.size(), utf8Bytes / 1e6);
        for (int vocab : new int[] {1024, 8192}) {
            SentencePieceModel model = SentencePieceModel.load(SharedFiles.tokenizer(vocab));
            for (int pass = 1; pass <= passes; pass++) {
                long tokens = 0;
                long begin = System.nanoTime();
                for (String doc : documents) {
                    tokens += model.encode(doc).length;
                }
                double seconds = (System.nanoTime() - begin) / 1e9;
                System.out.printf("sp%d pass %d: %.2f s, %.2f MB/s, %d tokens%n",
                        vocab, pass, seconds, utf8Bytes / 1e6 / seconds, tokens);
            }
        }
    }
}
