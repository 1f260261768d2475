package io.pgolf.config;

/** This process's place among the ranks: {@code pgolf.distributed}. */
public record DistributedConfig(int worldSize, int rank, int localRank) {

    /** The record's batch is laid out for this many GPUs; fewer ranks accumulate gradients to match. */
    public static final int RECORD_GPUS = 8;

    static DistributedConfig read(KnobReader r) {
        return new DistributedConfig(r.integer("distributed.world-size"), r.integer("distributed.rank"),
                r.integer("distributed.local-rank"));
    }

    /** Micro-steps per optimizer step: 8 / world-size. */
    public int gradAccumSteps() {
        return RECORD_GPUS / worldSize;
    }
}
