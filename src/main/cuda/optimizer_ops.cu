// OptimizerOps' kernels (io.pgolf.gpu.cuda.CudaOptimizerOps). Parameters and optimizer state are float32; a
// gradient may be F32 or BF16. Elementwise updates move four values at a time where the tensors are aligned.
#include "pgolf_vec.cuh"

// torch.optim.AdamW's step with the step-dependent factors computed on the host as the CPU reference does:
// p *= decay; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= step_size m / (sqrt(v) / bc2_sqrt + eps).
extern "C" __global__ void pg_adamw(float* param, const void* grad, int grad_type, float* exp_avg, float* exp_avg_sq,
                                    float decay, float beta1, float beta2, float eps, float step_size,
                                    float bias_correction2_sqrt, long long n) {
    bool vectorized = pg_aligned<4>(param, PG_F32) && pg_aligned<4>(grad, grad_type)
            && pg_aligned<4>(exp_avg, PG_F32) && pg_aligned<4>(exp_avg_sq, PG_F32);
    pg_for_each_chunk(n, vectorized, [&](auto width, long long i) {
        constexpr int VEC = decltype(width)::value;
        float p[VEC];
        float g[VEC];
        float m[VEC];
        float v[VEC];
        pg_load_vec<VEC>(param, PG_F32, i, p);
        pg_load_vec<VEC>(grad, grad_type, i, g);
        pg_load_vec<VEC>(exp_avg, PG_F32, i, m);
        pg_load_vec<VEC>(exp_avg_sq, PG_F32, i, v);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            p[k] *= decay;
            m[k] = beta1 * m[k] + (1.0f - beta1) * g[k];
            v[k] = beta2 * v[k] + (1.0f - beta2) * g[k] * g[k];
            float denom = sqrtf(v[k]) / bias_correction2_sqrt + eps;
            p[k] -= step_size * m[k] / denom;
        }
        pg_store_vec<VEC>(param, PG_F32, i, p);
        pg_store_vec<VEC>(exp_avg, PG_F32, i, m);
        pg_store_vec<VEC>(exp_avg_sq, PG_F32, i, v);
    });
}

// Each row of x [rows, cols] times 1 / max(||row||, eps): a warp per row (PG_ROW_WARPS per block).
extern "C" __global__ void pg_normalize_rows(void* x, int x_type, float eps, int rows, int cols) {
    int row = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    int lane = threadIdx.x & 31;
    long long base = (long long)row * cols;
    bool vectorized = cols % 4 == 0 && pg_aligned<4>(x, x_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        float inv = 1.0f / fmaxf(sqrtf(pg_warp_row_sum_squares<VEC>(x, x_type, base, cols, lane)), eps);
        for (int j = lane * VEC; j < cols; j += 32 * VEC) {
            float v[VEC];
            pg_load_vec<VEC>(x, x_type, base + j, v);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                v[k] *= inv;
            }
            pg_store_vec<VEC>(x, x_type, base + j, v);
        }
    });
}

// torch.optim.SGD with momentum, no dampening: buf = first_step ? g : momentum buf + g;
// p -= lr (nesterov ? g + momentum buf : buf).
extern "C" __global__ void pg_sgd_momentum(float* param, const void* grad, int grad_type, float* buf, float lr,
                                           float momentum, int nesterov, int first_step, long long n) {
    bool vectorized = pg_aligned<4>(param, PG_F32) && pg_aligned<4>(grad, grad_type) && pg_aligned<4>(buf, PG_F32);
    pg_for_each_chunk(n, vectorized, [&](auto width, long long i) {
        constexpr int VEC = decltype(width)::value;
        float p[VEC];
        float g[VEC];
        float b[VEC];
        pg_load_vec<VEC>(param, PG_F32, i, p);
        pg_load_vec<VEC>(grad, grad_type, i, g);
        pg_load_vec<VEC>(buf, PG_F32, i, b);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            b[k] = first_step ? g[k] : momentum * b[k] + g[k];
            p[k] -= lr * (nesterov ? g[k] + momentum * b[k] : b[k]);
        }
        pg_store_vec<VEC>(param, PG_F32, i, p);
        pg_store_vec<VEC>(buf, PG_F32, i, b);
    });
}
