package io.pgolf.data.corpus;

import io.pgolf.data.shard.ShardWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The challenge exporter's layout of tokenized documents into shards: each document becomes [BOS] + its ids,
 * the first {@code valDocs} documents go to {@code fineweb_val_*}, the rest to {@code fineweb_train_*}, and a
 * shard is cut every {@code shardTokens} tokens (documents span shard boundaries; a split switch flushes).
 * Documents must arrive in corpus order.
 */
public final class ShardedExport {
    /** One finished shard file and its token count. */
    public record WrittenShard(String split, Path file, int tokens) {
    }

    private final Path dir;
    private final long valDocs;
    private final int bosId;
    private final int vocabSize;
    private final char[] buffer;
    private final List<WrittenShard> written = new ArrayList<>();
    private int fill;
    private String split = "val";
    private int valShards;
    private int trainShards;
    private long docs;
    private long valTokens;
    private long trainTokens;

    public ShardedExport(Path dir, long valDocs, int shardTokens, int bosId, int vocabSize) {
        if (shardTokens <= 0) {
            throw new IllegalArgumentException("shard size must be positive, got " + shardTokens);
        }
        this.dir = dir;
        this.valDocs = valDocs;
        this.bosId = bosId;
        this.vocabSize = vocabSize;
        this.buffer = new char[shardTokens];
    }

    /** Appends document number {@link #documents()} (the next in corpus order). */
    public void add(int[] ids) {
        String docSplit = docs < valDocs ? "val" : "train";
        if (!docSplit.equals(split)) {
            flush();
            split = docSplit;
        }
        for (int id : ids) {
            if (id < 0 || id >= vocabSize) {
                throw new IllegalArgumentException("document " + docs + ": token id " + id + " outside the vocabulary of " + vocabSize);
            }
        }
        docs++;
        long n = ids.length + 1L;
        if (split.equals("val")) {
            valTokens += n;
        } else {
            trainTokens += n;
        }
        put(bosId);
        for (int id : ids) {
            put(id);
        }
    }

    private void put(int id) {
        buffer[fill++] = (char) id;
        if (fill == buffer.length) {
            flush();
        }
    }

    /** Writes the partly filled shard, if any; call once after the last document. */
    public void finish() {
        flush();
    }

    private void flush() {
        if (fill == 0) {
            return;
        }
        int number = split.equals("val") ? valShards++ : trainShards++;
        Path file = dir.resolve(String.format("fineweb_%s_%06d.bin", split, number));
        try {
            ShardWriter.write(file, buffer, fill);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write shard " + file, e);
        }
        written.add(new WrittenShard(split, file, fill));
        fill = 0;
    }

    public long documents() {
        return docs;
    }

    public long valTokens() {
        return valTokens;
    }

    public long trainTokens() {
        return trainTokens;
    }

    public List<WrittenShard> written() {
        return List.copyOf(written);
    }
}
