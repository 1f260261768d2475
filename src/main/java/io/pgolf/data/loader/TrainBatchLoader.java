package io.pgolf.data.loader;

import io.pgolf.data.shard.Shard;
import io.pgolf.data.shard.Shards;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TrainBatch;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One rank's training micro-batches: the rank's memory-mapped shards (files rank, rank + W, ...), sampled by
 * {@link ShuffledSequenceSampler} seeded with the rank, cut into windows of seqLen + 1 tokens. Not thread-safe.
 */
public final class TrainBatchLoader implements AutoCloseable {
    private final int rank;
    private final MicroBatchShape shape;
    private final List<Shard> shards;
    private final ShuffledSequenceSampler sampler;
    private long nextIndex;

    private TrainBatchLoader(int rank, MicroBatchShape shape, List<Shard> shards) {
        this.rank = rank;
        this.shape = shape;
        this.shards = shards;
        int[] counts = new int[shards.size()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = shards.get(i).count();
        }
        this.sampler = new ShuffledSequenceSampler(counts, shape.seqLen(), rank);
    }

    /** Opens rank {@code rank}'s share of the {@code fineweb_train_*.bin} shards in {@code datasetDir}. */
    public static TrainBatchLoader open(Path datasetDir, int rank, MicroBatchShape shape) throws IOException {
        List<Path> files = filesOfRank(Shards.list(datasetDir, "train"), rank, shape.worldSize());
        if (files.isEmpty()) {
            throw new IllegalArgumentException("rank " + rank + " of " + shape.worldSize() + " gets no training shard: "
                    + datasetDir + " holds fewer than " + (rank + 1) + " train shards");
        }
        List<Shard> shards = new ArrayList<>();
        try {
            for (Path file : files) {
                shards.add(Shard.open(file));
            }
            return new TrainBatchLoader(rank, shape, List.copyOf(shards));
        } catch (IOException | RuntimeException e) {
            shards.forEach(Shard::close);
            throw e;
        }
    }

    /** The files rank {@code rank} of {@code worldSize} reads: {@code all[rank::worldSize]}. */
    public static <T> List<T> filesOfRank(List<T> all, int rank, int worldSize) {
        if (worldSize <= 0 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("rank " + rank + " outside [0, " + worldSize + ")");
        }
        List<T> mine = new ArrayList<>();
        for (int i = rank; i < all.size(); i += worldSize) {
            mine.add(all.get(i));
        }
        return mine;
    }

    public int rank() {
        return rank;
    }

    public MicroBatchShape shape() {
        return shape;
    }

    public List<Path> files() {
        return shards.stream().map(Shard::file).toList();
    }

    /** The next micro-batch; batches are numbered from 0 since opening or the last {@link #reset()}. */
    public TrainBatch next() {
        int seqLen = shape.seqLen();
        int window = seqLen + 1;
        char[] tokens = new char[shape.windowTokens()];
        for (int row = 0; row < shape.rows(); row++) {
            WindowStart pick = sampler.next();
            shards.get(pick.shard()).copyTo(pick.start(), tokens, row * window, window);
        }
        return new TrainBatch(nextIndex++, rank, shape.rows(), seqLen, Tokens.adopt(tokens));
    }

    /** Restarts the batch sequence from its beginning (the trainer does this after warm-up). */
    public void reset() {
        sampler.reset();
        nextIndex = 0;
    }

    @Override
    public void close() {
        shards.forEach(Shard::close);
    }
}
