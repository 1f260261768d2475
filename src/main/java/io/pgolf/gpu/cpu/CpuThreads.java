package io.pgolf.gpu.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/** The CPU backend's worker threads and the one way its operations split work: contiguous index ranges. */
public final class CpuThreads implements AutoCloseable {
    /** A body run over indices [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private final ForkJoinPool pool;
    private final int threads;

    public CpuThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs body over [0, n) split into contiguous ranges of at least {@code grain} indices, in parallel, and
     * returns when all are done. Ranges never overlap, so bodies may write disjoint outputs without locks.
     */
    public void forRange(int n, int grain, RangeBody body) {
        int chunks = Math.min(threads * 4, Math.max(1, n / Math.max(1, grain)));
        if (pool == null || chunks <= 1) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        pool.invoke(new Split(body, 0, n, chunks));
    }

    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final int from;
        private final int to;
        private final int chunks;

        Split(RangeBody body, int from, int to, int chunks) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.chunks = chunks;
        }

        @Override
        protected void compute() {
            if (chunks <= 1) {
                body.run(from, to);
                return;
            }
            int leftChunks = chunks / 2;
            int mid = from + (int) ((long) (to - from) * leftChunks / chunks);
            invokeAll(new Split(body, from, mid, leftChunks), new Split(body, mid, to, chunks - leftChunks));
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdown();
        }
    }
}
