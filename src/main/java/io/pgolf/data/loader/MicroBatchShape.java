package io.pgolf.data.loader;

/**
 * How a step's TRAIN_BATCH_TOKENS split over W ranks and 8/W gradient-accumulation micro-steps: each micro-batch holds
 * {@code rows} windows of {@code seqLen + 1} tokens, as the reference's
 * {@code (global_tokens // (world_size * grad_accum_steps)) // seq_len}.
 */
public record MicroBatchShape(int worldSize, int gradAccumSteps, int rows, int seqLen) {
    /** The reference assumes 8 GPUs' worth of work per step, spread over the W ranks present. */
    public static final int REFERENCE_GPUS = 8;

    public MicroBatchShape {
        if (rows <= 0 || seqLen <= 0 || worldSize <= 0 || gradAccumSteps <= 0) {
            throw new IllegalArgumentException("rows, seqLen, worldSize and gradAccumSteps must be positive: " + rows
                    + ", " + seqLen + ", " + worldSize + ", " + gradAccumSteps);
        }
    }

    public static MicroBatchShape of(int trainBatchTokens, int worldSize, int seqLen) {
        if (worldSize <= 0 || REFERENCE_GPUS % worldSize != 0) {
            throw new IllegalArgumentException("world size must divide " + REFERENCE_GPUS + ", got " + worldSize);
        }
        if (seqLen <= 0) {
            throw new IllegalArgumentException("seqLen must be positive, got " + seqLen);
        }
        int gradAccumSteps = REFERENCE_GPUS / worldSize;
        int rows = trainBatchTokens / (worldSize * gradAccumSteps) / seqLen;
        if (rows <= 0) {
            throw new IllegalArgumentException("TRAIN_BATCH_TOKENS " + trainBatchTokens + " gives no full window of "
                    + seqLen + " tokens per micro-batch over " + REFERENCE_GPUS + " micro-batches");
        }
        return new MicroBatchShape(worldSize, gradAccumSteps, rows, seqLen);
    }

    /** Tokens one micro-batch carries: rows windows of seqLen + 1 (inputs and shifted targets share a window). */
    public int windowTokens() {
        return Math.multiplyExact(rows, seqLen + 1);
    }
}
