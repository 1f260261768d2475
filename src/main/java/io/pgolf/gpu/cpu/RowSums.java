package io.pgolf.gpu.cpu;

/**
 * Column sums over many rows (the gradient of a parameter broadcast over rows), computed in parallel yet
 * bit-for-bit independent of the thread count: the rows are cut into blocks that depend only on the row count,
 * each block sums into its own float64 partial, and the partials are added in block order.
 */
final class RowSums {
    /** At most this many partials, so their memory stays small for wide rows. */
    private static final int MAX_BLOCKS = 256;
    /** At least this many rows per block, so short matrices are not cut finer than is worth a task. */
    private static final int MIN_BLOCK_ROWS = 16;

    /** Adds the contributions of rows [fromRow, toRow) into partial (and may write other, per-row outputs). */
    @FunctionalInterface
    interface BlockBody {
        void accumulate(int fromRow, int toRow, double[] partial);
    }

    private RowSums() {
    }

    /** Runs body over all rows in blocks and returns the sum of the blocks' partials, each of length width. */
    static double[] over(CpuThreads threads, int rows, int width, BlockBody body) {
        int blocks = Math.max(1, Math.min(MAX_BLOCKS, Math.ceilDiv(rows, MIN_BLOCK_ROWS)));
        int blockRows = Math.ceilDiv(rows, blocks);
        double[][] partials = new double[blocks][];
        threads.forRange(blocks, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                partials[b] = new double[width];
                body.accumulate(Math.min(rows, b * blockRows), Math.min(rows, (b + 1) * blockRows), partials[b]);
            }
        });
        double[] total = new double[width];
        for (double[] partial : partials) {
            for (int j = 0; j < width; j++) {
                total[j] += partial[j];
            }
        }
        return total;
    }

    /** dst[j] += sums[j] for every j. */
    static void addInto(double[] sums, float[] dst) {
        for (int j = 0; j < sums.length; j++) {
            dst[j] += (float) sums[j];
        }
    }
}
