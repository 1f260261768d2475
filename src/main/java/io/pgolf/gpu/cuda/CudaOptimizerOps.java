package io.pgolf.gpu.cuda;

import io.pgolf.gpu.DType;
import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.StackChecks;
import io.pgolf.gpu.Tensor;

import java.util.List;

import static io.pgolf.gpu.cuda.CudaOperands.requireF32;
import static io.pgolf.gpu.cuda.CudaOperands.requireFloat;
import static io.pgolf.gpu.cuda.CudaOperands.requireFloats;

/**
 * {@link OptimizerOps} on the GPU: the kernels of src/main/cuda/optimizer_ops.cu. Parameters and optimizer state
 * must be F32; a gradient may be F32 or BF16. An operation over a list of tensors is one launch over a device table
 * of their addresses ({@link TensorSetTables}); reductions go through per-block partials summed in a fixed order,
 * and nothing waits for the device. Step-dependent factors are computed here exactly as the CPU reference computes
 * them, so both backends feed the same float32 constants to the same per-element update.
 */
public final class CudaOptimizerOps implements OptimizerOps {
    /** Warps per 256-thread block of pg_nesterov_momentum; PG_ROW_WARPS of pgolf_vec.cuh. */
    private static final int ROW_WARPS = 8;

    /** Threads per block of the multi-tensor and normalization kernels. */
    private static final int BLOCK = 256;
    /** At most this many blocks share a Newton-Schulz normalization, each summing all their partials. */
    private static final int NORMALIZE_BLOCKS = 256;

    private final KernelModules kernels;
    private final CudaTensorOps tensorOps;
    private final TensorSetTables tables;

    public CudaOptimizerOps(CudaRuntime runtime) {
        this.kernels = runtime.kernels();
        this.tensorOps = runtime.tensors();
        this.tables = new TensorSetTables(tensorOps);
    }

    /** A multi-tensor kernel's first two parameters: its table and the number of sets. */
    private static KernelArgs setArgs(TensorSetTables.Table table) {
        return KernelArgs.of().address(table.address()).i32(table.sets());
    }

    @Override
    public void globalNorm(List<Tensor> tensors, Tensor norm) {
        requireF32(norm, 1, "global norm");
        tensors.forEach(t -> requireFloat(t, "tensor of a global norm"));
        TensorSetTables.Table table = tables.of(List.of(tensors), "global norm");
        try (Tensor partials = tensorOps.empty(DType.F32, 2 * table.chunks())) {
            kernels.launch("pg_global_norm_partials", KernelModules.Dim3.of(table.chunks()),
                    KernelModules.Dim3.of(BLOCK), 0, setArgs(table).pointer(partials));
            kernels.launch("pg_global_norm_finish", KernelModules.Dim3.of(1), KernelModules.Dim3.of(BLOCK), 0,
                    KernelArgs.of().pointer(partials).i32(table.chunks()).pointer(norm));
        }
    }

    @Override
    public void clipToNorm(List<Tensor> tensors, Tensor norm, float maxNorm) {
        requireF32(norm, 1, "clip norm");
        tensors.forEach(t -> requireFloat(t, "tensor to clip"));
        TensorSetTables.Table table = tables.of(List.of(tensors), "clip to norm");
        kernels.launch("pg_clip_to_norm", KernelModules.Dim3.of(table.chunks()), KernelModules.Dim3.of(BLOCK), 0,
                setArgs(table).pointer(norm).f32(maxNorm));
    }

    @Override
    public void adamw(List<Tensor> params, List<Tensor> grads, List<Tensor> expAvg, List<Tensor> expAvgSq, float lr,
                      float beta1, float beta2, float eps, float weightDecay, int step) {
        if (step < 1) {
            throw new IllegalArgumentException("AdamW steps count from 1, got " + step);
        }
        params.forEach(p -> requireF32(p, p.size(), "AdamW parameter"));
        grads.forEach(g -> requireFloat(g, "AdamW gradient"));
        expAvg.forEach(m -> requireF32(m, m.size(), "AdamW first moment"));
        expAvgSq.forEach(v -> requireF32(v, v.size(), "AdamW second moment"));
        TensorSetTables.Table table = tables.of(List.of(params, grads, expAvg, expAvgSq), "AdamW");
        float decay = 1f - lr * weightDecay;
        float biasCorrection1 = (float) (1 - Math.pow(beta1, step));
        float biasCorrection2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float stepSize = lr / biasCorrection1;
        kernels.launch("pg_adamw", KernelModules.Dim3.of(table.chunks()), KernelModules.Dim3.of(BLOCK), 0,
                setArgs(table).f32(decay).f32(beta1).f32(beta2).f32(eps).f32(stepSize).f32(biasCorrection2Sqrt));
    }

    @Override
    public void movingAverage(List<Tensor> averages, List<Tensor> values, double decay) {
        averages.forEach(a -> requireF32(a, a.size(), "moving average"));
        values.forEach(v -> requireFloat(v, "averaged value"));
        TensorSetTables.Table table = tables.of(List.of(averages, values), "moving average");
        kernels.launch("pg_moving_average", KernelModules.Dim3.of(table.chunks()), KernelModules.Dim3.of(BLOCK), 0,
                setArgs(table).f32((float) (1.0 - decay)).f32((float) decay));
    }

    @Override
    public void nesterovMomentum(List<Tensor> grads, Tensor buf, Tensor update, float momentum, boolean normalizeRows,
                                 float rowEps) {
        int count = grads.size();
        StackChecks.requireMomentumStacks(count, buf, update);
        requireF32(buf, buf.size(), "momentum buffer");
        requireFloat(update, "momentum update");
        int rows = buf.dim(1);
        int cols = buf.dim(2);
        grads.forEach(g -> requireFloats(g, (long) rows * cols, "momentum gradient"));
        if (count == 0 || rows == 0 || cols == 0) {
            return;
        }
        TensorSetTables.Table table = tables.of(List.of(grads), "nesterov momentum");
        kernels.launch("pg_nesterov_momentum", KernelModules.Dim3.of(Math.ceilDiv(count * rows, ROW_WARPS)),
                KernelModules.Dim3.of(ROW_WARPS * 32), 0, setArgs(table).pointer(buf).tensor(update).i32(rows)
                        .i32(cols).f32(momentum).i32(normalizeRows ? 1 : 0).f32(rowEps));
    }

    @Override
    public void normalizeBfloat16(Tensor src, Tensor dst, float eps) {
        requireFloat(src, "tensor to normalize");
        requireFloats(dst, src.size(), "normalized tensor");
        int count = src.rank() == 3 ? src.dim(0) : 1;
        long n = count == 0 ? 0 : src.size() / count;
        if (n == 0) {
            return;
        }
        int blocks = (int) Math.min(Math.ceilDiv(n, BLOCK), NORMALIZE_BLOCKS);
        KernelModules.Dim3 grid = KernelModules.Dim3.of(blocks, count);
        try (Tensor partials = tensorOps.empty(DType.F32, 2 * blocks * count)) {
            kernels.launch("pg_normalize_bf16_partials", grid, KernelModules.Dim3.of(BLOCK), 0,
                    KernelArgs.of().tensor(src).i64(n).pointer(partials));
            kernels.launch("pg_normalize_bf16", grid, KernelModules.Dim3.of(BLOCK), 0,
                    KernelArgs.of().tensor(src).tensor(dst).i64(n).pointer(partials).f32(eps));
        }
    }

    @Override
    public void roundedScaleAdd(float alpha, Tensor x, Tensor y, Tensor out) {
        requireFloat(x, "scaled tensor");
        if (y != null) {
            requireFloats(y, x.size(), "added tensor");
        }
        requireFloats(out, x.size(), "scale-add output");
        kernels.launchElementwise("pg_rounded_scale_add", Math.ceilDiv(x.size(), 4), KernelArgs.of().f32(alpha)
                .tensor(x).tensorOrNull(y).tensor(out).i64(x.size()));
    }

    @Override
    public void applyRoundedUpdate(List<Tensor> params, Tensor update, float scale, float lr, float decay) {
        long n = params.isEmpty() ? 0 : params.getFirst().size();
        // The kernel finds parameter i's matrix at i * n: every parameter must have the first one's size.
        params.forEach(p -> requireF32(p, n, "updated parameter"));
        requireFloats(update, params.size() * n, "update stack of " + params.size() + " parameters");
        if (n == 0) {
            return;
        }
        TensorSetTables.Table table = tables.of(List.of(params), "rounded update");
        kernels.launch("pg_apply_rounded_update", KernelModules.Dim3.of(table.chunks()), KernelModules.Dim3.of(BLOCK),
                0, setArgs(table).tensor(update).f32(scale).f32(-lr).f32(decay));
    }

    @Override
    public void sgdMomentum(Tensor param, Tensor grad, Tensor buf, float lr, float momentum, boolean nesterov,
                            boolean firstStep) {
        requireF32(param, param.size(), "SGD parameter");
        requireFloats(grad, param.size(), "SGD gradient");
        requireF32(buf, param.size(), "SGD momentum buffer");
        kernels.launchElementwise("pg_sgd_momentum", Math.ceilDiv(param.size(), 4), KernelArgs.of().pointer(param)
                .tensor(grad).pointer(buf).f32(lr).f32(momentum).i32(nesterov ? 1 : 0).i32(firstStep ? 1 : 0)
                .i64(param.size()));
    }
}
