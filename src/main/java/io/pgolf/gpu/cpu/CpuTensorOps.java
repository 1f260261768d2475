package io.pgolf.gpu.cpu;

import io.pgolf.gpu.BatchedGemmShape;
import io.pgolf.gpu.Bfloat16;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.StackChecks;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;

import java.util.Arrays;

/** {@link TensorOps} in plain Java: float32 values, float32 GEMM accumulation (SIMD, {@link CpuGemm}), float64 reductions. */
final class CpuTensorOps implements TensorOps {
    /** Side of the square tiles of a transpose. */
    private static final int TRANSPOSE_TILE = 32;

    private final CpuThreads threads;

    CpuTensorOps(CpuThreads threads) {
        this.threads = threads;
    }

    @Override
    public Tensor zeros(DType dtype, int... shape) {
        return CpuTensor.zeros(dtype, shape);
    }

    @Override
    public Tensor upload(DType dtype, float[] values, int... shape) {
        CpuTensor t = CpuTensor.zeros(dtype, shape);
        requireLength(values.length, t);
        System.arraycopy(values, 0, t.floats(), 0, values.length);
        return t;
    }

    @Override
    public Tensor uploadInts(int[] values, int... shape) {
        CpuTensor t = CpuTensor.zeros(DType.I32, shape);
        requireLength(values.length, t);
        System.arraycopy(values, 0, t.ints(), 0, values.length);
        return t;
    }

    private static void requireLength(int length, Tensor t) {
        if (length != t.size()) {
            throw new IllegalArgumentException(length + " values do not fill a tensor of shape " + Arrays.toString(t.shape()));
        }
    }

    @Override
    public float[] download(Tensor t) {
        return CpuTensor.of(t).floats().clone();
    }

    @Override
    public int[] downloadInts(Tensor t) {
        return CpuTensor.of(t).ints().clone();
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        requireSameSize(src, dst);
        CpuTensor s = CpuTensor.of(src);
        CpuTensor d = CpuTensor.of(dst);
        if (s.dtype() == DType.I32 && d.dtype() == DType.I32) {
            System.arraycopy(s.ints(), 0, d.ints(), 0, s.ints().length);
        } else {
            System.arraycopy(s.floats(), 0, d.floats(), 0, s.floats().length);
        }
    }

    @Override
    public void copyRows(Tensor src, Tensor dst, int dstRow) {
        StackChecks.requireRowBlock(src, dst, dstRow, "copyRows");
        float[] s = CpuTensor.of(src).floats();
        System.arraycopy(s, 0, CpuTensor.of(dst).floats(), dstRow * dst.dim(-1), s.length);
    }

    @Override
    public void addRows(Tensor src, int srcRow, Tensor dst) {
        StackChecks.requireRowBlock(dst, src, srcRow, "addRows");
        float[] s = CpuTensor.of(src).floats();
        float[] d = CpuTensor.of(dst).floats();
        int offset = srcRow * src.dim(-1);
        threads.forRange(d.length, 1 << 15, (from, to) -> {
            for (int i = from; i < to; i++) {
                d[i] += s[offset + i];
            }
        });
    }

    @Override
    public void fill(Tensor t, float value) {
        Arrays.fill(CpuTensor.of(t).floats(), value);
    }

    @Override
    public void gemm(boolean transposeA, boolean transposeB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        int m = transposeA ? a.dim(-1) : a.rows();
        int k = transposeA ? a.rows() : a.dim(-1);
        int kB = transposeB ? b.dim(-1) : b.rows();
        int n = transposeB ? b.rows() : b.dim(-1);
        if (k != kB || c.rows() != m || c.dim(-1) != n) {
            throw new IllegalArgumentException("gemm shapes do not agree: op(a) " + m + "x" + k + ", op(b) " + kB + "x" + n
                    + ", c " + c.rows() + "x" + c.dim(-1) + " (a " + a.describe() + ", b " + b.describe() + ")");
        }
        multiply(new BatchedGemmShape(1, m, n, k), transposeA, transposeB, alpha, a, b, beta, c);
    }

    @Override
    public void batchedGemm(boolean transposeA, boolean transposeB, float alpha, Tensor a, Tensor b, float beta,
                            Tensor c) {
        multiply(BatchedGemmShape.of(transposeA, transposeB, a, b, c), transposeA, transposeB, alpha, a, b, beta, c);
    }

    /**
     * The products of s.count() matrices laid one after another in a, b and c, every tile of every product a task:
     * each element is accumulated as a lone GEMM accumulates it, so a stack's products equal the matrices' own.
     */
    private void multiply(BatchedGemmShape s, boolean transposeA, boolean transposeB, float alpha, Tensor a, Tensor b,
                          float beta, Tensor c) {
        int m = s.m();
        int n = s.n();
        int k = s.k();
        // Row lengths of a and b as stored: a transposed operand is read in place, as the kernel packs it anyway.
        int aWidth = transposeA ? m : k;
        int bWidth = transposeB ? k : n;
        float[] as = CpuTensor.of(a).floats();
        float[] bs = CpuTensor.of(b).floats();
        float[] cs = CpuTensor.of(c).floats();
        GemmTiles tiles = GemmTiles.of(m, n, k, threads.threads());
        int perMatrix = tiles.count();
        threads.forRange(s.count() * perMatrix, 1, (from, to) -> {
            for (int task = from; task < to; task++) {
                int matrix = task / perMatrix;
                int tile = task % perMatrix;
                int aAt = matrix * m * k;
                int bAt = matrix * k * n;
                CpuGemm.View left = transposeA ? CpuGemm.View.transposedRows(as, aAt, aWidth)
                        : CpuGemm.View.rows(as, aAt, aWidth);
                CpuGemm.View right = transposeB ? CpuGemm.View.transposedRows(bs, bAt, bWidth)
                        : CpuGemm.View.rows(bs, bAt, bWidth);
                CpuGemm.View out = CpuGemm.View.rows(cs, matrix * m * n, n);
                int rowFrom = tiles.rowFrom(tile);
                int colFrom = tiles.colFrom(tile);
                CpuGemm.multiply(left, right, out, rowFrom, Math.min(m, rowFrom + tiles.rows()), colFrom,
                        Math.min(n, colFrom + tiles.cols()), k, alpha, beta);
            }
        });
    }

    /** dst [cols, rows] = src [rows, cols]^T, in square tiles so that both sides are read and written in lines. */
    private void transposeInto(float[] src, float[] dst, int rows, int cols) {
        int tile = TRANSPOSE_TILE;
        threads.forRange(Math.ceilDiv(cols, tile), Math.max(1, 4096 / Math.max(1, rows)), (from, to) -> {
            for (int j0 = from * tile; j0 < Math.min(cols, to * tile); j0 += tile) {
                int j1 = Math.min(cols, j0 + tile);
                for (int i0 = 0; i0 < rows; i0 += tile) {
                    int i1 = Math.min(rows, i0 + tile);
                    for (int j = j0; j < j1; j++) {
                        int dstRow = j * rows;
                        for (int i = i0; i < i1; i++) {
                            dst[dstRow + i] = src[i * cols + j];
                        }
                    }
                }
            }
        });
    }

    @Override
    public void axpby(float alpha, Tensor x, float beta, Tensor y) {
        requireSameSize(x, y);
        float[] xs = CpuTensor.of(x).floats();
        float[] ys = CpuTensor.of(y).floats();
        threads.forRange(ys.length, 1 << 15, (from, to) -> {
            for (int i = from; i < to; i++) {
                ys[i] = alpha * xs[i] + beta * ys[i];
            }
        });
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        requireSameSize(a, b);
        requireSameSize(a, out);
        float[] as = CpuTensor.of(a).floats();
        float[] bs = CpuTensor.of(b).floats();
        float[] os = CpuTensor.of(out).floats();
        threads.forRange(os.length, 1 << 15, (from, to) -> {
            for (int i = from; i < to; i++) {
                os[i] = as[i] + bs[i];
            }
        });
    }

    @Override
    public void scale(Tensor t, float alpha) {
        float[] ts = CpuTensor.of(t).floats();
        threads.forRange(ts.length, 1 << 15, (from, to) -> {
            for (int i = from; i < to; i++) {
                ts[i] *= alpha;
            }
        });
    }

    @Override
    public void transpose(Tensor src, Tensor dst) {
        int rows = src.rows();
        int cols = src.dim(-1);
        if (dst.rows() != cols || dst.dim(-1) != rows) {
            throw new IllegalArgumentException("cannot transpose " + src.describe() + " into " + dst.describe());
        }
        transposeInto(CpuTensor.of(src).floats(), CpuTensor.of(dst).floats(), rows, cols);
    }

    @Override
    public void roundToBfloat16(Tensor t) {
        float[] ts = CpuTensor.of(t).floats();
        threads.forRange(ts.length, 1 << 15, (from, to) -> {
            for (int i = from; i < to; i++) {
                ts[i] = Bfloat16.round(ts[i]);
            }
        });
    }

    @Override
    public double sumOfSquares(Tensor t) {
        float[] ts = CpuTensor.of(t).floats();
        double sum = 0;
        for (float v : ts) {
            sum += (double) v * v;
        }
        return sum;
    }

    private static void requireSameSize(Tensor a, Tensor b) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException("sizes differ: " + a.describe() + " and " + b.describe());
        }
    }
}
