package io.pgolf.gpu.cpu;

import io.pgolf.gpu.Bfloat16;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;

import java.util.Arrays;

/** {@link TensorOps} in plain Java: float32 values, float32 GEMM accumulation (SIMD, {@link CpuGemm}), float64 reductions. */
final class CpuTensorOps implements TensorOps {
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
    public void fill(Tensor t, float value) {
        Arrays.fill(CpuTensor.of(t).floats(), value);
    }

    @Override
    public void gemm(boolean transposeA, boolean transposeB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        int aRows = a.rows();
        int aCols = a.dim(-1);
        int bRows = b.rows();
        int bCols = b.dim(-1);
        int m = transposeA ? aCols : aRows;
        int k = transposeA ? aRows : aCols;
        int kB = transposeB ? bCols : bRows;
        int n = transposeB ? bRows : bCols;
        if (k != kB || c.rows() != m || c.dim(-1) != n) {
            throw new IllegalArgumentException("gemm shapes do not agree: op(a) " + m + "x" + k + ", op(b) " + kB + "x" + n
                    + ", c " + c.rows() + "x" + c.dim(-1) + " (a " + a.describe() + ", b " + b.describe() + ")");
        }
        // Transposed operands are materialized once: O(mk + kn) copies next to the O(mkn) product.
        float[] left = transposeA ? transposed(CpuTensor.of(a).floats(), aRows, aCols) : CpuTensor.of(a).floats();
        float[] right = transposeB ? transposed(CpuTensor.of(b).floats(), bRows, bCols) : CpuTensor.of(b).floats();
        float[] out = CpuTensor.of(c).floats();
        // Tasks of whole 4-row blocks, at least ~1M multiply-adds each.
        int grain = 4 * Math.max(1, 262_144 / Math.max(1, k * n));
        threads.forRange(m, grain, (from, to) -> CpuGemm.multiplyRows(left, right, out, from, to, k, n, alpha, beta));
    }

    private float[] transposed(float[] src, int rows, int cols) {
        float[] dst = new float[src.length];
        transposeInto(src, dst, rows, cols);
        return dst;
    }

    private void transposeInto(float[] src, float[] dst, int rows, int cols) {
        threads.forRange(cols, 16, (from, to) -> {
            for (int j = from; j < to; j++) {
                int dstRow = j * rows;
                for (int i = 0; i < rows; i++) {
                    dst[dstRow + i] = src[i * cols + j];
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
