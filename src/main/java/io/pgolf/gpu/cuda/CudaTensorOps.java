package io.pgolf.gpu.cuda;

import io.pgolf.gpu.BatchedGemmShape;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.StackChecks;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;
import jcuda.Pointer;

import java.util.Arrays;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD16Async;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;

/**
 * TensorOps on the GPU. GEMMs go to cuBLASLt; as under torch's autocast, a product with a BF16 operand or a BF16
 * result is computed from bfloat16 operands (a float32 operand, a master weight say, is rounded to bfloat16 into a
 * scratch copy first) with float32 accumulation, and only a product of three float32 tensors runs in float32.
 * Elementwise work runs in the kernels of src/main/cuda/tensor_ops.cu.
 */
public final class CudaTensorOps implements TensorOps {
    private static final int SUM_BLOCKS = 256;
    /**
     * Float uploads up to this size (the small tensors a forward pass makes: row selectors, mixes) are queued
     * through pinned buffers; larger ones (parameters, once) are copied synchronously and need no pinned memory.
     */
    private static final long STAGED_UPLOAD_BYTES = 1L << 20;

    private final CudaDevice device;
    private final DeviceMemoryPool pool;
    private final KernelModules kernels;
    private final Cublas cublas;
    private final PinnedStaging staging;

    CudaTensorOps(CudaDevice device, DeviceMemoryPool pool, KernelModules kernels, Cublas cublas) {
        this.device = device;
        this.pool = pool;
        this.kernels = kernels;
        this.cublas = cublas;
        this.staging = new PinnedStaging(device);
    }

    /** Frees the pinned host buffers (the runtime closes this before the device). */
    void close() {
        staging.close();
    }

    /** A pending zero (see {@link CudaTensor}): filled only if its first use needs the zeros in memory. */
    @Override
    public Tensor zeros(DType dtype, int... shape) {
        CudaTensor t = new CudaTensor(dtype, shape, pool);
        t.setZero();
        return t;
    }

    @Override
    public CudaTensor empty(DType dtype, int... shape) {
        return new CudaTensor(dtype, shape, pool);
    }

    @Override
    public Tensor upload(DType dtype, float[] values, int... shape) {
        if (dtype == DType.I32) {
            throw new IllegalArgumentException("upload float values into an I32 tensor: use uploadInts");
        }
        CudaTensor t = new CudaTensor(dtype, shape, pool);
        requireLength(t, values.length);
        if (t.bytes() <= STAGED_UPLOAD_BYTES) {
            switch (dtype) {
                case F32 -> staging.upload(values, t.block());
                default -> staging.upload(toBfloat16Bits(values), t.block());
            }
            return t;
        }
        device.makeCurrent();
        switch (dtype) {
            case F32 -> cuMemcpyHtoD(t.block(), Pointer.to(values), t.bytes());
            default -> cuMemcpyHtoD(t.block(), Pointer.to(toBfloat16Bits(values)), t.bytes());
        }
        return t;
    }

    /** Token ids, the per-micro-batch input: copied asynchronously through pinned buffers. */
    @Override
    public Tensor uploadInts(int[] values, int... shape) {
        CudaTensor t = new CudaTensor(DType.I32, shape, pool);
        requireLength(t, values.length);
        staging.upload(values, t.block());
        return t;
    }

    @Override
    public float[] download(Tensor t) {
        CudaTensor c = CudaTensor.of(t);
        int n = Math.toIntExact(c.size());
        device.makeCurrent();
        return switch (c.dtype()) {
            case F32 -> {
                float[] values = new float[n];
                cuMemcpyDtoH(Pointer.to(values), c.block(), c.bytes());
                yield values;
            }
            case BF16 -> {
                short[] bits = new short[n];
                cuMemcpyDtoH(Pointer.to(bits), c.block(), c.bytes());
                float[] values = new float[n];
                for (int i = 0; i < n; i++) {
                    values[i] = Float.intBitsToFloat(bits[i] << 16);
                }
                yield values;
            }
            case I32 -> throw new IllegalArgumentException("download of an I32 tensor: use downloadInts");
        };
    }

    @Override
    public int[] downloadInts(Tensor t) {
        CudaTensor c = CudaTensor.of(t);
        if (c.dtype() != DType.I32) {
            throw new IllegalArgumentException("downloadInts of a " + c.describe() + " tensor");
        }
        int[] values = new int[Math.toIntExact(c.size())];
        device.makeCurrent();
        cuMemcpyDtoH(Pointer.to(values), c.block(), c.bytes());
        return values;
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        sameSize("copy", src, dst);
        kernels.launchElementwise("pg_convert", src.size(), KernelArgs.of().tensor(src).tensor(dst).i64(0)
                .i64(src.size()));
    }

    @Override
    public void copyRows(Tensor src, Tensor dst, int dstRow) {
        StackChecks.requireRowBlock(src, dst, dstRow, "copyRows");
        kernels.launchElementwise("pg_convert", src.size(), KernelArgs.of().tensor(src).tensor(dst)
                .i64((long) dstRow * dst.dim(-1)).i64(src.size()));
    }

    @Override
    public void addRows(Tensor src, int srcRow, Tensor dst) {
        StackChecks.requireRowBlock(dst, src, srcRow, "addRows");
        kernels.launchElementwise("pg_accumulate_from", dst.size(), KernelArgs.of().tensor(src)
                .i64((long) srcRow * src.dim(-1)).accumulating(dst).i64(dst.size()));
    }

    /**
     * Zero makes a pending zero (see {@link CudaTensor}); any other value is a memset of its bit pattern on the
     * stream, faster than a kernel, as fills are pure stores.
     */
    @Override
    public void fill(Tensor t, float value) {
        CudaTensor c = CudaTensor.of(t);
        if (Float.floatToRawIntBits(value) == 0) {
            c.setZero();
            return;
        }
        DeviceMemoryPool.Block block = c.blockForOverwrite();
        device.makeCurrent();
        switch (c.dtype()) {
            case F32 -> cuMemsetD32Async(block, Float.floatToRawIntBits(value), c.size(), device.stream());
            case BF16 -> cuMemsetD16Async(block,
                    (short) (Float.floatToRawIntBits(io.pgolf.gpu.Bfloat16.round(value)) >>> 16), c.size(),
                    device.stream());
            case I32 -> cuMemsetD32Async(block, (int) value, c.size(), device.stream());
        }
    }

    @Override
    public void gemm(boolean transposeA, boolean transposeB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        int m = transposeA ? a.dim(-1) : a.rows();
        int k = transposeA ? a.rows() : a.dim(-1);
        int kb = transposeB ? b.dim(-1) : b.rows();
        int n = transposeB ? b.rows() : b.dim(-1);
        if (k != kb || c.rows() != m || c.dim(-1) != n) {
            throw new IllegalArgumentException("gemm shapes do not fit: op(a) of " + a.describe() + (transposeA ? "^T" : "")
                    + ", op(b) of " + b.describe() + (transposeB ? "^T" : "") + ", c " + c.describe());
        }
        // Row-major C [m, n] is column-major C^T [n, m] = op(B)^T op(A)^T: cuBLAS gets B first.
        product(a, b, beta, c, (left, right, abType, betaValue, cBlock, cType) -> cublas.gemm(transposeB, transposeA,
                n, m, k, alpha, right, transposeB ? k : n, left, transposeA ? m : k, abType, betaValue, cBlock, n,
                cType));
    }

    /** One strided-batch cuBLASLt call over the stacks, typed as {@link #gemm} types a lone product. */
    @Override
    public void batchedGemm(boolean transposeA, boolean transposeB, float alpha, Tensor a, Tensor b, float beta,
                            Tensor c) {
        BatchedGemmShape s = BatchedGemmShape.of(transposeA, transposeB, a, b, c);
        if (s.count() == 0) {
            return;
        }
        int m = s.m();
        int n = s.n();
        int k = s.k();
        // Each row-major C_i [m, n] is column-major C_i^T = op(B_i)^T op(A_i)^T, as in gemm.
        product(a, b, beta, c, (left, right, abType, betaValue, cBlock, cType) -> cublas.gemmStridedBatched(
                transposeB, transposeA, n, m, k, alpha, right, transposeB ? k : n, (long) k * n, left,
                transposeA ? m : k, (long) m * k, abType, betaValue, cBlock, n, (long) m * n, cType, s.count()));
    }

    /** A cuBLASLt call given its operands' addresses and cudaDataTypes and the beta it is to use. */
    private interface ProductCall {
        void run(long a, long b, int abType, float beta, DeviceMemoryPool.Block c, int cType);
    }

    /**
     * Runs {@code call} on a product's operands: float32 only when a, b and c all are, else bf16 operands (a
     * float32 one copied to bf16, the copy closed afterwards); C = alpha op(A) op(B) + beta C writes every element
     * of C, so a pending-zero c is taken over with beta 0, unfilled.
     */
    private void product(Tensor a, Tensor b, float beta, Tensor c, ProductCall call) {
        boolean float32 = a.dtype() == DType.F32 && b.dtype() == DType.F32 && c.dtype() == DType.F32;
        CudaTensor left = float32 ? CudaTensor.of(a) : asBfloat16(a);
        CudaTensor right = float32 ? CudaTensor.of(b) : asBfloat16(b);
        CudaTensor result = CudaTensor.of(c);
        try {
            boolean overwrite = result.zeroPending() && result != a && result != b;
            DeviceMemoryPool.Block cBlock = overwrite ? result.blockForOverwrite() : result.block();
            call.run(left.address(), right.address(), float32 ? CublasLt.CUDA_R_32F : CublasLt.CUDA_R_16BF,
                    overwrite ? 0f : beta, cBlock, c.dtype() == DType.F32 ? CublasLt.CUDA_R_32F : CublasLt.CUDA_R_16BF);
        } finally {
            if (left != a) {
                left.close();
            }
            if (right != b) {
                right.close();
            }
        }
    }

    @Override
    public void axpby(float alpha, Tensor x, float beta, Tensor y) {
        sameSize("axpby", x, y);
        kernels.launchElementwise("pg_axpby", y.size(),
                KernelArgs.of().f32(alpha).tensor(x).f32(beta).tensor(y).i64(y.size()));
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        sameSize("add", a, b);
        sameSize("add", a, out);
        kernels.launchElementwise("pg_add", out.size(), KernelArgs.of().tensor(a).tensor(b).tensor(out).i64(out.size()));
    }

    @Override
    public void scale(Tensor t, float alpha) {
        kernels.launchElementwise("pg_scale", t.size(), KernelArgs.of().tensor(t).i64(t.size()).f32(alpha));
    }

    @Override
    public void transpose(Tensor src, Tensor dst) {
        int rows = src.rows();
        int cols = src.dim(-1);
        if (dst.rows() != cols || dst.dim(-1) != rows) {
            throw new IllegalArgumentException("transpose of " + src.describe() + " into " + dst.describe());
        }
        kernels.launch("pg_transpose", KernelModules.Dim3.of(Math.ceilDiv(cols, 32), Math.ceilDiv(rows, 32)),
                KernelModules.Dim3.of(32, 8), 0, KernelArgs.of().tensor(src).tensor(dst).i32(rows).i32(cols));
    }

    @Override
    public void roundToBfloat16(Tensor t) {
        switch (t.dtype()) {
            case F32 -> kernels.launchElementwise("pg_round_bf16", t.size(), KernelArgs.of().pointer(t).i64(t.size()));
            case BF16 -> { }
            case I32 -> throw new IllegalArgumentException("roundToBfloat16 of an I32 tensor");
        }
    }

    @Override
    public double sumOfSquares(Tensor t) {
        try (CudaTensor partials = empty(DType.F32, 2 * SUM_BLOCKS); CudaTensor total = empty(DType.F32, 2)) {
            kernels.launch("pg_sum_squares_partial", KernelModules.Dim3.of(SUM_BLOCKS), KernelModules.Dim3.of(256), 0,
                    KernelArgs.of().tensor(t).i64(t.size()).pointer(partials));
            kernels.launch("pg_sum_partials", KernelModules.Dim3.of(1), KernelModules.Dim3.of(32), 0,
                    KernelArgs.of().pointer(partials).i32(SUM_BLOCKS).pointer(total));
            double[] result = new double[1];
            device.makeCurrent();
            cuMemcpyDtoH(Pointer.to(result), total.block(), Double.BYTES);
            return result[0];
        }
    }

    /** t itself when it is BF16, else a BF16 copy the caller closes. */
    private CudaTensor asBfloat16(Tensor t) {
        CudaTensor c = CudaTensor.of(t);
        if (c.dtype() == DType.BF16) {
            return c;
        }
        if (c.dtype() != DType.F32) {
            throw new IllegalArgumentException("gemm of a " + c.describe() + " tensor");
        }
        CudaTensor copy = empty(DType.BF16, c.shape());
        copy(c, copy);
        return copy;
    }

    private static short[] toBfloat16Bits(float[] values) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = (short) (Float.floatToRawIntBits(io.pgolf.gpu.Bfloat16.round(values[i])) >>> 16);
        }
        return bits;
    }

    private static void requireLength(CudaTensor t, int length) {
        if (t.size() != length) {
            t.close();
            throw new IllegalArgumentException(length + " values for a tensor of shape " + Arrays.toString(t.shape()));
        }
    }

    private static void sameSize(String op, Tensor a, Tensor b) {
        if (a.size() != b.size()) {
            throw new IllegalArgumentException(op + " of " + a.describe() + " and " + b.describe()
                    + ": sizes differ");
        }
    }
}
