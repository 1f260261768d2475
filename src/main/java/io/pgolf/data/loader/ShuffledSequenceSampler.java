package io.pgolf.data.loader;

import java.util.Arrays;

/**
 * The reference's {@code ShuffledSequenceLoader} sampling over a rank's shard token counts: per shard a random phase
 * and a random order of its seqLen-long windows; each window picks a shard with probability proportional to the
 * windows it has left; when all are used up every shard is reshuffled. Draws match numpy's PCG64(seed) exactly.
 */
public final class ShuffledSequenceSampler {
    private final int[] tokenCounts;
    private final int seqLen;
    private final long seed;
    private final int[][] starts;
    /** Windows left per shard; the reference pops from the end of each shard's start list. */
    private final int[] left;
    private NumpyGenerator rng;

    public ShuffledSequenceSampler(int[] tokenCounts, int seqLen, long seed) {
        if (seqLen <= 0) {
            throw new IllegalArgumentException("seqLen must be positive, got " + seqLen);
        }
        if (tokenCounts.length == 0) {
            throw new IllegalArgumentException("no shards to sample from");
        }
        for (int i = 0; i < tokenCounts.length; i++) {
            if (tokenCounts[i] < 0) {
                throw new IllegalArgumentException("shard " + i + " has a negative token count " + tokenCounts[i]);
            }
        }
        // A shard has at least one window exactly when it holds seqLen + 1 tokens, whatever its phase.
        if (Arrays.stream(tokenCounts).allMatch(count -> count < seqLen + 1)) {
            throw new IllegalArgumentException("no shard holds seqLen + 1 = " + (seqLen + 1L) + " tokens: counts "
                    + Arrays.toString(tokenCounts));
        }
        this.tokenCounts = tokenCounts.clone();
        this.seqLen = seqLen;
        this.seed = seed;
        this.starts = new int[tokenCounts.length][];
        this.left = new int[tokenCounts.length];
        reset();
    }

    /** Back to the state right after construction, as the reference does by building a new loader. */
    public void reset() {
        rng = NumpyGenerator.seeded(seed);
        reshuffleAll();
    }

    public int shardCount() {
        return tokenCounts.length;
    }

    public int seqLen() {
        return seqLen;
    }

    /** The next window, as the reference's next_batch picks its rows one after another. */
    public WindowStart next() {
        long total = 0;
        for (int count : left) {
            total += count;
        }
        if (total <= 0) {
            reshuffleAll();
            for (int count : left) {
                total += count;
            }
        }
        // Window counts are integers below 2^53, so their float64 sum is exact whatever numpy's summation order.
        double[] p = new double[left.length];
        double denominator = total;
        for (int i = 0; i < left.length; i++) {
            p[i] = left[i] / denominator;
        }
        int shard = rng.choice(p);
        int start = starts[shard][--left[shard]];
        return new WindowStart(shard, start);
    }

    private void reshuffleAll() {
        for (int shard = 0; shard < tokenCounts.length; shard++) {
            reshuffle(shard);
        }
    }

    private void reshuffle(int shard) {
        int n = tokenCounts[shard];
        int maxPhase = Math.min(seqLen - 1, Math.max(0, n - seqLen - 1));
        int phase = maxPhase > 0 ? (int) rng.integers(maxPhase + 1L) : 0;
        int windows = Math.floorDiv(n - 1 - phase, seqLen);
        int[] order = rng.permutation(windows);
        int[] shardStarts = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            shardStarts[i] = phase + order[i] * seqLen;
        }
        starts[shard] = shardStarts;
        left[shard] = shardStarts.length;
    }
}
