package io.pgolf.gpu.cuda;

import io.pgolf.gpu.OptimizerOps;
import io.pgolf.gpu.Tensor;

import static io.pgolf.gpu.cuda.CudaOperands.requireF32;
import static io.pgolf.gpu.cuda.CudaOperands.requireFloat;
import static io.pgolf.gpu.cuda.CudaOperands.requireFloats;

/**
 * {@link OptimizerOps} on the GPU: the kernels of src/main/cuda/optimizer_ops.cu. Parameters and optimizer state
 * must be F32; a gradient may be F32 or BF16. Step-dependent factors are computed here exactly as the CPU reference
 * computes them, so both backends feed the same float32 constants to the same per-element update.
 */
public final class CudaOptimizerOps implements OptimizerOps {
    /** Warps per 256-thread block of pg_normalize_rows; PG_ROW_WARPS of pgolf_vec.cuh. */
    private static final int ROW_WARPS = 8;

    private final KernelModules kernels;

    public CudaOptimizerOps(CudaRuntime runtime) {
        this.kernels = runtime.kernels();
    }

    @Override
    public void adamw(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, float lr, float beta1, float beta2,
                      float eps, float weightDecay, int step) {
        if (step < 1) {
            throw new IllegalArgumentException("AdamW steps count from 1, got " + step);
        }
        requireF32(param, param.size(), "AdamW parameter");
        requireFloats(grad, param.size(), "AdamW gradient");
        requireF32(expAvg, param.size(), "AdamW first moment");
        requireF32(expAvgSq, param.size(), "AdamW second moment");
        float decay = 1f - lr * weightDecay;
        float biasCorrection1 = (float) (1 - Math.pow(beta1, step));
        float biasCorrection2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float stepSize = lr / biasCorrection1;
        kernels.launchElementwise("pg_adamw", Math.ceilDiv(param.size(), 4), KernelArgs.of().pointer(param)
                .tensor(grad).pointer(expAvg).pointer(expAvgSq).f32(decay).f32(beta1).f32(beta2).f32(eps)
                .f32(stepSize).f32(biasCorrection2Sqrt).i64(param.size()));
    }

    @Override
    public void normalizeRows(Tensor x, float eps) {
        requireFloat(x, "rows to normalize");
        int rows = x.rows();
        if (rows == 0) {
            return;
        }
        kernels.launch("pg_normalize_rows", KernelModules.Dim3.of(Math.ceilDiv(rows, ROW_WARPS)),
                KernelModules.Dim3.of(ROW_WARPS * 32), 0, KernelArgs.of().tensor(x).f32(eps).i32(rows).i32(x.dim(-1)));
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
