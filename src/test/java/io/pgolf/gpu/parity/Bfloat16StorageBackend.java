package io.pgolf.gpu.parity;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.LayerOps;
import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.RopeTable;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.TensorOps;
import io.pgolf.gpu.cpu.CpuBackend;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;

/**
 * The CPU backend made to store activations as the GPU does: {@link #activationType()} is BF16, and a BF16 tensor
 * is a float32 tensor rounded to bfloat16 after every operation that writes it. GEMMs follow the CUDA backend's rule
 * (a product with any BF16 tensor multiplies bfloat16-rounded operands). What it cannot show is rounding inside a
 * kernel (flash attention's bf16 P); everything else about bf16 storage it reproduces, so a correct bf16 backend's
 * errors are about these.
 */
public final class Bfloat16StorageBackend implements Backend {
    /** A tensor as this backend hands it out: its declared dtype over the CPU tensor holding its values. */
    private record Stored(DType dtype, Tensor inner) implements Tensor {
        @Override
        public int[] shape() {
            return inner.shape();
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    private final CpuBackend cpu;
    private final TensorOps tensors = new StoredTensorOps();
    private final LayerOps layers;
    private final OptimizerOps optimizer;

    public Bfloat16StorageBackend(int threads) {
        this.cpu = new CpuBackend(threads);
        this.layers = roundingAfterEachCall(LayerOps.class, cpu.layers());
        this.optimizer = roundingAfterEachCall(OptimizerOps.class, cpu.optimizer());
    }

    @Override
    public String name() {
        return "cpu with bf16 activations";
    }

    @Override
    public TensorOps tensors() {
        return tensors;
    }

    @Override
    public LayerOps layers() {
        return layers;
    }

    @Override
    public OptimizerOps optimizer() {
        return optimizer;
    }

    @Override
    public DType activationType() {
        return DType.BF16;
    }

    @Override
    public void close() {
        cpu.close();
    }

    private static Tensor inner(Tensor t) {
        return t == null ? null : ((Stored) t).inner();
    }

    private void roundIfBfloat16(Tensor t) {
        if (t != null && t.dtype() == DType.BF16) {
            cpu.tensors().roundToBfloat16(inner(t));
        }
    }

    /**
     * ops with every Tensor (and RopeTable) argument unwrapped, and every BF16 argument rounded afterwards: inputs
     * are already bfloat16 values, so only the outputs change.
     */
    private <T> T roundingAfterEachCall(Class<T> type, T ops) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            Object[] unwrapped = new Object[args.length];
            for (int i = 0; i < args.length; i++) {
                unwrapped[i] = switch (args[i]) {
                    case Stored s -> s.inner();
                    case RopeTable r -> new RopeTable(r.dims(), r.positions(), inner(r.cos()), inner(r.sin()));
                    case List<?> tensors -> tensors.stream().map(t -> ((Stored) t).inner()).toList();
                    case null, default -> args[i];
                };
            }
            Object result = invoke(method, ops, unwrapped);
            for (Object arg : args) {
                if (arg instanceof Stored s) {
                    roundIfBfloat16(s);
                } else if (arg instanceof List<?> tensors) {
                    tensors.forEach(t -> roundIfBfloat16((Stored) t));
                }
            }
            return result;
        }));
    }

    private static Object invoke(Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private final class StoredTensorOps implements TensorOps {
        private TensorOps ops() {
            return cpu.tensors();
        }

        private Stored wrap(DType dtype, Tensor inner) {
            Stored t = new Stored(dtype, inner);
            roundIfBfloat16(t);
            return t;
        }

        private static DType innerType(DType dtype) {
            return dtype == DType.I32 ? DType.I32 : DType.F32;
        }

        @Override
        public Tensor zeros(DType dtype, int... shape) {
            return wrap(dtype, ops().zeros(innerType(dtype), shape));
        }

        @Override
        public Tensor upload(DType dtype, float[] values, int... shape) {
            return wrap(dtype, ops().upload(innerType(dtype), values, shape));
        }

        @Override
        public Tensor uploadInts(int[] values, int... shape) {
            return wrap(DType.I32, ops().uploadInts(values, shape));
        }

        @Override
        public float[] download(Tensor t) {
            return ops().download(inner(t));
        }

        @Override
        public int[] downloadInts(Tensor t) {
            return ops().downloadInts(inner(t));
        }

        @Override
        public void copy(Tensor src, Tensor dst) {
            ops().copy(inner(src), inner(dst));
            roundIfBfloat16(dst);
        }

        @Override
        public void copyRows(Tensor src, Tensor dst, int dstRow) {
            ops().copyRows(inner(src), inner(dst), dstRow);
            roundIfBfloat16(dst);
        }

        @Override
        public void addRows(Tensor src, int srcRow, Tensor dst) {
            ops().addRows(inner(src), srcRow, inner(dst));
            roundIfBfloat16(dst);
        }

        @Override
        public void fill(Tensor t, float value) {
            ops().fill(inner(t), value);
            roundIfBfloat16(t);
        }

        @Override
        public void gemm(boolean transposeA, boolean transposeB, float alpha, Tensor a, Tensor b, float beta,
                         Tensor c) {
            boolean bf16 = a.dtype() == DType.BF16 || b.dtype() == DType.BF16 || c.dtype() == DType.BF16;
            if (!bf16) {
                ops().gemm(transposeA, transposeB, alpha, inner(a), inner(b), beta, inner(c));
                return;
            }
            try (Tensor left = roundedCopy(a); Tensor right = roundedCopy(b)) {
                ops().gemm(transposeA, transposeB, alpha, left, right, beta, inner(c));
            }
            roundIfBfloat16(c);
        }

        @Override
        public void batchedGemm(boolean transposeA, boolean transposeB, float alpha, Tensor a, Tensor b, float beta,
                                Tensor c) {
            boolean bf16 = a.dtype() == DType.BF16 || b.dtype() == DType.BF16 || c.dtype() == DType.BF16;
            if (!bf16) {
                ops().batchedGemm(transposeA, transposeB, alpha, inner(a), inner(b), beta, inner(c));
                return;
            }
            try (Tensor left = roundedCopy(a); Tensor right = roundedCopy(b)) {
                ops().batchedGemm(transposeA, transposeB, alpha, left, right, beta, inner(c));
            }
            roundIfBfloat16(c);
        }

        private Tensor roundedCopy(Tensor t) {
            Tensor copy = ops().zeros(DType.F32, t.shape());
            ops().copy(inner(t), copy);
            ops().roundToBfloat16(copy);
            return copy;
        }

        @Override
        public void axpby(float alpha, Tensor x, float beta, Tensor y) {
            ops().axpby(alpha, inner(x), beta, inner(y));
            roundIfBfloat16(y);
        }

        @Override
        public void add(Tensor a, Tensor b, Tensor out) {
            ops().add(inner(a), inner(b), inner(out));
            roundIfBfloat16(out);
        }

        @Override
        public void scale(Tensor t, float alpha) {
            ops().scale(inner(t), alpha);
            roundIfBfloat16(t);
        }

        @Override
        public void transpose(Tensor src, Tensor dst) {
            ops().transpose(inner(src), inner(dst));
            roundIfBfloat16(dst);
        }

        @Override
        public void roundToBfloat16(Tensor t) {
            ops().roundToBfloat16(inner(t));
        }

        @Override
        public double sumOfSquares(Tensor t) {
            return ops().sumOfSquares(inner(t));
        }
    }
}
