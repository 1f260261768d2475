package io.pgolf.protocol;

/** A consumer's request for {@code count} more micro-batches from a DataLoader (demand-driven flow control). */
public record BatchDemand(int count) implements PipelineMessage {
    public BatchDemand {
        if (count <= 0) {
            throw new IllegalArgumentException("count must be positive, got " + count);
        }
    }
}
