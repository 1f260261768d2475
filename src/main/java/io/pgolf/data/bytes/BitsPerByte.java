package io.pgolf.data.bytes;

/**
 * Accumulates the evaluation score: the summed loss (nats) of scored target tokens and the bytes of text
 * they stand for ({@link ByteTables#tokenBytes}). Bits per byte = (nats / ln 2) / bytes. Not thread-safe:
 * each worker or rank keeps its own and the partial {@link Totals} are merged.
 */
public final class BitsPerByte {
    private static final double LN_2 = Math.log(2.0);

    private final ByteTables tables;
    private double nats;
    private long tokens;
    private long bytes;

    public BitsPerByte(ByteTables tables) {
        this.tables = tables;
    }

    /** Adds one scored target token: its loss in nats, its id and the id of the token before it. */
    public void add(double nats, int target, int previous) {
        this.nats += nats;
        this.tokens++;
        this.bytes += tables.tokenBytes(target, previous);
    }

    /**
     * Adds {@code count} scored tokens from parallel arrays starting at {@code offset}: token i has loss
     * {@code nats[i]}, id {@code targets[i]} and follows {@code previous[i]}.
     */
    public void add(float[] nats, int[] targets, int[] previous, int offset, int count) {
        for (int i = offset; i < offset + count; i++) {
            add(nats[i], targets[i], previous[i]);
        }
    }

    /** Adds the sums of another accumulator, e.g. another rank's shard of the evaluation. */
    public void merge(Totals partial) {
        nats += partial.nats();
        tokens += partial.tokens();
        bytes += partial.bytes();
    }

    public Totals totals() {
        return new Totals(nats, tokens, bytes);
    }

    /** An immutable snapshot of the sums, fit to send between workers. */
    public record Totals(double nats, long tokens, long bytes) {
        public double meanLoss() {
            return nats / tokens;
        }

        public double bitsPerByte() {
            return nats / LN_2 / bytes;
        }
    }
}
