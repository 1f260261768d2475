package io.pgolf.gpu.cpu;

/**
 * The tasks of one GEMM: a grid of rowTiles x colTiles tiles of out, each {@code rows} x {@code cols} (the last
 * ones cut short). Rows are split first, in whole kernel blocks; columns too, in whole kernel strips, when a short
 * and wide product has too few row blocks to keep every thread busy.
 */
record GemmTiles(int rowTiles, int colTiles, int rows, int cols) {
    /** Multiply-adds worth forking a task for. */
    private static final long WORK_PER_TASK = 1L << 20;
    /** Tasks per thread, so that a thread slowed by other work on the machine leaves less behind. */
    private static final int TASKS_PER_THREAD = 4;

    static GemmTiles of(int m, int n, int k, int threads) {
        long work = (long) m * n * k;
        int tasks = (int) Math.max(1, Math.min((long) threads * TASKS_PER_THREAD, work / WORK_PER_TASK));
        int rowBlocks = Math.max(1, Math.ceilDiv(m, CpuGemm.ROWS));
        int colStrips = Math.max(1, Math.ceilDiv(n, CpuGemm.STRIP));
        int rowTiles = Math.min(tasks, rowBlocks);
        int colTiles = Math.min(Math.ceilDiv(tasks, rowTiles), colStrips);
        int rows = Math.ceilDiv(rowBlocks, rowTiles) * CpuGemm.ROWS;
        int cols = Math.ceilDiv(colStrips, colTiles) * CpuGemm.STRIP;
        return new GemmTiles(Math.ceilDiv(Math.max(1, m), rows), Math.ceilDiv(Math.max(1, n), cols), rows, cols);
    }

    int count() {
        return rowTiles * colTiles;
    }

    int rowFrom(int tile) {
        return tile / colTiles * rows;
    }

    int colFrom(int tile) {
        return tile % colTiles * cols;
    }
}
