package io.pgolf.model.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * How legal score-first TTT (the reference's eval_val_sliding_ttt) walks the validation tokens: the targets are cut
 * into chunks of {@code chunkTokens} positions, and each sliding window belongs to the chunk holding its first scored
 * position, {@code min((start + firstScored) / chunkTokens, chunks - 1)}. Chunks are scored, then trained on, in
 * order; a chunk that holds no window is skipped entirely.
 */
public final class TttPlan {
    private final SlidingWindows windows;
    private final int chunkTokens;
    private final List<List<Integer>> windowsByChunk;

    private TttPlan(SlidingWindows windows, int chunkTokens, List<List<Integer>> windowsByChunk) {
        this.windows = windows;
        this.chunkTokens = chunkTokens;
        this.windowsByChunk = windowsByChunk;
    }

    public static TttPlan of(SlidingWindows windows, int chunkTokens) {
        if (chunkTokens <= 0) {
            throw new IllegalArgumentException("chunkTokens must be positive, got " + chunkTokens);
        }
        int chunks = Math.ceilDiv(windows.targets(), chunkTokens);
        List<List<Integer>> byChunk = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            byChunk.add(new ArrayList<>());
        }
        for (int start : windows.starts()) {
            byChunk.get(Math.min((start + windows.firstScored(start)) / chunkTokens, chunks - 1)).add(start);
        }
        return new TttPlan(windows, chunkTokens, byChunk.stream().map(List::copyOf).toList());
    }

    public SlidingWindows windows() {
        return windows;
    }

    public int chunkTokens() {
        return chunkTokens;
    }

    /** Chunks of the targets, empty ones included (the reference's num_chunks). */
    public int chunkCount() {
        return windowsByChunk.size();
    }

    /** The starts of the windows that chunk {@code chunk} scores, in order. */
    public List<Integer> windowsOf(int chunk) {
        return windowsByChunk.get(requireChunk(chunk));
    }

    /** The chunks that hold windows, in the order they are scored. */
    public List<Integer> scoredChunks() {
        return IntStream.range(0, chunkCount()).filter(c -> !windowsByChunk.get(c).isEmpty()).boxed().toList();
    }

    /** First target position of the chunk. */
    public int chunkStart(int chunk) {
        return requireChunk(chunk) * chunkTokens;
    }

    /** One past the chunk's last target position. */
    public int chunkEnd(int chunk) {
        return Math.min((requireChunk(chunk) + 1) * chunkTokens, windows.targets());
    }

    /** The last chunk is scored but never trained on: nothing is scored after it. */
    public boolean isLast(int chunk) {
        return requireChunk(chunk) == chunkCount() - 1;
    }

    /** Whole seqLen sequences in the chunk; a remainder is never trained on. */
    public int trainingSequences(int chunk) {
        return (chunkEnd(chunk) - chunkStart(chunk)) / windows.seqLen();
    }

    /** The cosine schedule over chunks: baseLr * 0.5 * (1 + cos(pi * chunk / max(chunks - 1, 1))). */
    public double learningRate(int chunk, double baseLr) {
        return baseLr * 0.5 * (1.0 + Math.cos(Math.PI * requireChunk(chunk) / Math.max(chunkCount() - 1, 1)));
    }

    private int requireChunk(int chunk) {
        if (chunk < 0 || chunk >= chunkCount()) {
            throw new IllegalArgumentException("no chunk " + chunk + " (there are " + chunkCount() + ")");
        }
        return chunk;
    }
}
