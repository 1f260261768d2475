package io.pgolf.data.bytes;

import io.pgolf.data.shard.Shard;
import io.pgolf.protocol.Tokens;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The simplest honest language model: each token's probability is its add-one-smoothed frequency in the training
 * shards, whatever came before. Its bpb is the bar any trained model must clear.
 */
public final class UnigramBaseline {
    private final double[] logProb;

    private UnigramBaseline(double[] logProb) {
        this.logProb = logProb;
    }

    public static UnigramBaseline fit(List<Path> trainShards, int vocabSize) throws IOException {
        long[] counts = new long[vocabSize];
        long total = 0;
        char[] buf = new char[1 << 20];
        for (Path file : trainShards) {
            try (Shard shard = Shard.open(file)) {
                for (int from = 0; from < shard.count(); from += buf.length) {
                    int n = Math.min(buf.length, shard.count() - from);
                    shard.copyTo(from, buf, 0, n);
                    for (int i = 0; i < n; i++) {
                        if (buf[i] >= vocabSize) {
                            throw new IllegalArgumentException(file + ": token " + (int) buf[i] + " at " + (from + i)
                                    + " is outside the vocabulary of " + vocabSize);
                        }
                        counts[buf[i]]++;
                    }
                }
                total += shard.count();
            }
        }
        double[] logProb = new double[vocabSize];
        double denominator = Math.log(total + (double) vocabSize);
        for (int t = 0; t < vocabSize; t++) {
            logProb[t] = Math.log(counts[t] + 1.0) - denominator;
        }
        return new UnigramBaseline(logProb);
    }

    /** Scores every target of {@code tokens} (positions 1..n-1), as the evaluator scores a model. */
    public BitsPerByte.Totals score(Tokens tokens, ByteTables tables) {
        BitsPerByte bpb = new BitsPerByte(tables);
        for (int i = 1; i < tokens.length(); i++) {
            bpb.add(-logProb[tokens.get(i)], tokens.get(i), tokens.get(i - 1));
        }
        return bpb.totals();
    }
}
