package io.pgolf.gpu;

/**
 * Rotary-embedding angles for positions 0..positions-1: cos and sin F32 [positions, dims / 2], where dims is the
 * number of rotated dims of each head (the first dims of the head; the rest pass through).
 */
public record RopeTable(int dims, int positions, Tensor cos, Tensor sin) implements AutoCloseable {
    public RopeTable {
        if (dims <= 0 || dims % 2 != 0) {
            throw new IllegalArgumentException("rotary dims must be positive and even, got " + dims);
        }
    }

    @Override
    public void close() {
        cos.close();
        sin.close();
    }
}
