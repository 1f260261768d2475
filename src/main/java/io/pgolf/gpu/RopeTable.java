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
        requireAngles(cos, positions, dims, "rotary cos");
        requireAngles(sin, positions, dims, "rotary sin");
    }

    /**
     * Requires the table to cover heads of {@code headDim} dims (it rotates at most all of them) at sequence length
     * {@code seqLen} (it has an angle for every position): what an operation that applies it checks first.
     */
    public void requireCovers(int headDim, int seqLen) {
        if (dims > headDim || positions < seqLen) {
            throw new IllegalArgumentException("a rotary table of " + dims + " dims and " + positions
                    + " positions does not cover heads of " + headDim + " at sequence length " + seqLen);
        }
    }

    private static void requireAngles(Tensor t, int positions, int dims, String what) {
        if (t.dtype() == DType.I32 || t.dim(-1) != dims / 2 || t.size() != (long) positions * (dims / 2)) {
            throw new IllegalArgumentException(what + " must be a float " + positions + " x " + dims / 2 + " table, got "
                    + t.describe());
        }
    }

    @Override
    public void close() {
        cos.close();
        sin.close();
    }
}
