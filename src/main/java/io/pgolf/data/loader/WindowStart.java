package io.pgolf.data.loader;

/** One sampled training window: tokens {@code [start, start + seqLen]} of the rank's shard number {@code shard}. */
public record WindowStart(int shard, int start) {
}
