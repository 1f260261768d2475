// OptimizerOps' kernels (io.pgolf.gpu.cuda.CudaOptimizerOps). Parameters and optimizer state are float32; a
// gradient may be F32 or BF16. Elementwise updates move four values at a time where the tensors are aligned.
#include "pgolf_vec.cuh"

// Multi-tensor launches: one launch covers a list of tensors (or of aligned operand sets: a parameter with its
// gradient and state), each cut into chunks of PG_CHUNK values, one block per chunk. CudaOptimizerOps writes the
// table of sets once per list (io.pgolf.gpu.cuda.TensorSetTables): 64-bit words, per set its first chunk (the sets'
// chunks follow one another in list order), its value count, then the operands' addresses and dtype codes.
#define PG_CHUNK 16384

template <int OPERANDS>
struct PgTensorSet {
    long long first_chunk;
    long long n;
    long long address[OPERANDS];
    long long type[OPERANDS];
};

// The index of the set that holds chunk `chunk`: the last one whose first chunk is not past it (binary search).
template <int OPERANDS>
__device__ __forceinline__ int pg_set_of_chunk(const PgTensorSet<OPERANDS>* sets, int count, long long chunk) {
    int lo = 0;
    int hi = count - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (sets[mid].first_chunk <= chunk) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

// Runs body(width, address, type, i) over this block's chunk of a set of N operands (n values each, the set's chunks
// starting at first_chunk): four values at a time when every operand is aligned to four (chunks start at multiples
// of PG_CHUNK, so then every chunk is), the rest one by one.
template <int N, typename Body>
__device__ __forceinline__ void pg_for_each_in_set_chunk(long long first_chunk, long long n, void* const* address,
                                                         const int* type, Body body) {
    bool vectorized = true;
#pragma unroll
    for (int k = 0; k < N; k++) {
        vectorized = vectorized && pg_aligned<4>(address[k], type[k]);
    }
    long long start = (blockIdx.x - first_chunk) * PG_CHUNK;
    long long length = min((long long)PG_CHUNK, n - start);
    long long quads = vectorized ? length / 4 : 0;
    for (long long q = threadIdx.x; q < quads; q += blockDim.x) {
        body(pg_vec_width<4>{}, address, type, start + q * 4);
    }
    for (long long t = quads * 4 + threadIdx.x; t < length; t += blockDim.x) {
        body(pg_vec_width<1>{}, address, type, start + t);
    }
}

// pg_for_each_in_set_chunk over the operands of the set that holds this block's chunk.
template <int OPERANDS, typename Body>
__device__ __forceinline__ void pg_for_each_in_chunk(const PgTensorSet<OPERANDS>* sets, int count, Body body) {
    const PgTensorSet<OPERANDS>& set = sets[pg_set_of_chunk(sets, count, blockIdx.x)];
    void* address[OPERANDS];
    int type[OPERANDS];
#pragma unroll
    for (int k = 0; k < OPERANDS; k++) {
        address[k] = reinterpret_cast<void*>(set.address[k]);
        type[k] = (int)set.type[k];
    }
    pg_for_each_in_set_chunk<OPERANDS>(set.first_chunk, set.n, address, type, body);
}

// Matrix `index` of a stack of matrices of n values each: its first element.
__device__ __forceinline__ void* pg_stack_matrix(const void* stack, int type, long long index, long long n) {
    size_t bytes = pg_is_bf16(type) ? 2 : 4;
    return const_cast<char*>(reinterpret_cast<const char*>(stack)) + index * n * bytes;
}

// The block's sum of doubles, in a fixed order (warp shuffles, then the warps' sums by the first warp); thread 0
// gets it. `scratch` holds 32 doubles of shared memory.
__device__ __forceinline__ double pg_block_sum_double(double v, double* scratch) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    v = pg_warp_sum_double(v);
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    double total = 0.0;
    if (warp == 0) {
        total = pg_warp_sum_double(lane < (int)(blockDim.x >> 5) ? scratch[lane] : 0.0);
    }
    return total;
}

// partials[chunk] = the sum of squares of the chunk's values, in double: a fixed chunk per block and a fixed-order
// second pass (pg_global_norm_finish) make the norm deterministic.
extern "C" __global__ void pg_global_norm_partials(const PgTensorSet<1>* sets, int count, double* partials) {
    __shared__ double scratch[32];
    double squares = 0.0;
    pg_for_each_in_chunk<1>(sets, count, [&](auto width, void* const* address, const int* type, long long i) {
        constexpr int VEC = decltype(width)::value;
        float v[VEC];
        pg_load_vec<VEC>(address[0], type[0], i, v);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            squares += (double)v[k] * v[k];
        }
    });
    double total = pg_block_sum_double(squares, scratch);
    if (threadIdx.x == 0) {
        partials[blockIdx.x] = total;
    }
}

// norm[0] = sqrt(sum of partials[0..count)), one block summing in a fixed order.
extern "C" __global__ void pg_global_norm_finish(const double* partials, int count, float* norm) {
    __shared__ double scratch[32];
    double sum = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) {
        sum += partials[i];
    }
    double total = pg_block_sum_double(sum, scratch);
    if (threadIdx.x == 0) {
        norm[0] = (float)sqrt(total);
    }
}

// Every value times torch.nn.utils.clip_grad_norm_'s coefficient, in float32 as torch computes it:
// min(1, (1 / (norm + 1e-6)) * max_norm). A NaN norm gives a NaN coefficient (the comparison keeps it), as in torch.
extern "C" __global__ void pg_clip_to_norm(const PgTensorSet<1>* sets, int count, const float* norm, float max_norm) {
    float coefficient = (1.0f / (norm[0] + 1e-6f)) * max_norm;
    if (coefficient > 1.0f) {
        coefficient = 1.0f;
    }
    pg_for_each_in_chunk<1>(sets, count, [&](auto width, void* const* address, const int* type, long long i) {
        constexpr int VEC = decltype(width)::value;
        float v[VEC];
        pg_load_vec<VEC>(address[0], type[0], i, v);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            v[k] *= coefficient;
        }
        pg_store_vec<VEC>(address[0], type[0], i, v);
    });
}

// torch.optim.AdamW's step over sets (param, grad, exp_avg, exp_avg_sq), the step-dependent factors computed on the
// host as the CPU reference does: p *= decay; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= step_size m / (sqrt(v) / bc2_sqrt + eps).
extern "C" __global__ void pg_adamw(const PgTensorSet<4>* sets, int count, float decay, float beta1, float beta2,
                                    float eps, float step_size, float bias_correction2_sqrt) {
    pg_for_each_in_chunk<4>(sets, count, [&](auto width, void* const* address, const int* type, long long i) {
        constexpr int VEC = decltype(width)::value;
        float p[VEC];
        float g[VEC];
        float m[VEC];
        float v[VEC];
        pg_load_vec<VEC>(address[0], type[0], i, p);
        pg_load_vec<VEC>(address[1], type[1], i, g);
        pg_load_vec<VEC>(address[2], type[2], i, m);
        pg_load_vec<VEC>(address[3], type[3], i, v);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            p[k] *= decay;
            m[k] = beta1 * m[k] + (1.0f - beta1) * g[k];
            v[k] = beta2 * v[k] + (1.0f - beta2) * g[k] * g[k];
            float denom = sqrtf(v[k]) / bias_correction2_sqrt + eps;
            p[k] -= step_size * m[k] / denom;
        }
        pg_store_vec<VEC>(address[0], type[0], i, p);
        pg_store_vec<VEC>(address[2], type[2], i, m);
        pg_store_vec<VEC>(address[3], type[3], i, v);
    });
}

// average = weight * value + keep * average over sets (average, value): the EMA of the weights.
extern "C" __global__ void pg_moving_average(const PgTensorSet<2>* sets, int count, float weight, float keep) {
    pg_for_each_in_chunk<2>(sets, count, [&](auto width, void* const* address, const int* type, long long i) {
        constexpr int VEC = decltype(width)::value;
        float average[VEC];
        float value[VEC];
        pg_load_vec<VEC>(address[0], type[0], i, average);
        pg_load_vec<VEC>(address[1], type[1], i, value);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            average[k] = weight * value[k] + keep * average[k];
        }
        pg_store_vec<VEC>(address[0], type[0], i, average);
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

// Muon's nesterov momentum with MuonEq-R over a stack (io.pgolf.gpu.OptimizerOps.nesterovMomentum): `grads` is the
// table of the gradients (one operand per set), buf (float32) and update the stacks [count, rows, cols]; a warp per
// row of the stack (PG_ROW_WARPS per block). buf = g + momentum buf; u = g + momentum buf; with normalize_rows
// u /= max(||row||, eps), the row's squares summed in float32 as pg_warp_row_sum_squares sums them; update = u. The
// second sweep reads back the row this lane wrote.
extern "C" __global__ void pg_nesterov_momentum(const PgTensorSet<1>* grads, int count, float* buf, void* update,
                                                int update_type, int rows, int cols, float momentum,
                                                int normalize_rows, float eps) {
    long long row = (long long)blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (row >= (long long)count * rows) {
        return;
    }
    int lane = threadIdx.x & 31;
    const PgTensorSet<1>& set = grads[row / rows];
    const void* grad = reinterpret_cast<const void*>(set.address[0]);
    int grad_type = (int)set.type[0];
    long long at = row % rows * cols;
    long long base = row * cols;
    bool vectorized = cols % 4 == 0 && pg_aligned<4>(grad, grad_type) && pg_aligned<4>(buf, PG_F32)
            && pg_aligned<4>(update, update_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        // sum = g + momentum buf for the lane's values at j, with buf as it is in memory at that point.
        auto momentum_sum = [&](int j, float (&sum)[VEC]) {
            float g[VEC];
            float b[VEC];
            pg_load_vec<VEC>(grad, grad_type, at + j, g);
            pg_load_vec<VEC>(buf, PG_F32, base + j, b);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                sum[k] = momentum * b[k] + g[k];
            }
        };
        float squares = 0.0f;
        for (int j = lane * VEC; j < cols; j += 32 * VEC) {
            // buf = g + momentum buf, then u = g + momentum buf with the new buf: the same sum before and after
            // the store.
            float b[VEC];
            momentum_sum(j, b);
            pg_store_vec<VEC>(buf, PG_F32, base + j, b);
            float u[VEC];
            momentum_sum(j, u);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                squares += u[k] * u[k];
            }
            if (!normalize_rows) {
                pg_store_vec<VEC>(update, update_type, base + j, u);
            }
        }
        if (!normalize_rows) {
            return;
        }
        float inv = 1.0f / fmaxf(sqrtf(pg_warp_sum(squares)), eps);
        for (int j = lane * VEC; j < cols; j += 32 * VEC) {
            float u[VEC];
            momentum_sum(j, u);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                u[k] *= inv;
            }
            pg_store_vec<VEC>(update, update_type, base + j, u);
        }
    });
}

// partials[matrix * count + block] = the sum of squares of bf16(src) over this block's grid-stride share of matrix
// blockIdx.y (the n values from matrix * n), in double; count = gridDim.x blocks per matrix, a fixed grid, so that
// pg_normalize_bf16 sums the partials in a fixed order.
extern "C" __global__ void pg_normalize_bf16_partials(const void* src, int src_type, long long n, double* partials) {
    __shared__ double scratch[32];
    long long offset = (long long)blockIdx.y * n;
    double squares = 0.0;
    PG_FOR_EACH(i, n) {
        double v = pg_round_bf16(pg_load(src, src_type, offset + i));
        squares += v * v;
    }
    double total = pg_block_sum_double(squares, scratch);
    if (threadIdx.x == 0) {
        partials[(long long)blockIdx.y * gridDim.x + blockIdx.x] = total;
    }
}

// dst = X / (||X|| + eps) for matrix blockIdx.y of the stack, in torch's eager bfloat16 arithmetic, X = bf16(src):
// norm = bf16(sqrt(sum of squares)), divisor = bf16(norm + eps), dst = bf16(X * (1 / divisor)). Every block of a
// matrix sums the same partials in the same order, so all divide by the same divisor without a third pass. Each
// thread reads the elements it writes, so dst may be src.
extern "C" __global__ void pg_normalize_bf16(const void* src, int src_type, void* dst, int dst_type, long long n,
                                             const double* partials, float eps) {
    __shared__ double scratch[32];
    __shared__ float inverse;
    const double* own = partials + (long long)blockIdx.y * gridDim.x;
    double sum = 0.0;
    for (int i = threadIdx.x; i < (int)gridDim.x; i += blockDim.x) {
        sum += own[i];
    }
    double total = pg_block_sum_double(sum, scratch);
    if (threadIdx.x == 0) {
        float norm = pg_round_bf16((float)sqrt(total));
        inverse = 1.0f / pg_round_bf16(norm + eps);
    }
    __syncthreads();
    float scale = inverse;
    long long offset = (long long)blockIdx.y * n;
    PG_FOR_EACH(i, n) {
        pg_store(dst, dst_type, offset + i, pg_round_bf16(pg_round_bf16(pg_load(src, src_type, offset + i)) * scale));
    }
}

// out = bf16(bf16(alpha x) + y), or bf16(alpha x) without y: Newton-Schulz's scaled sums, each term rounded as
// torch's eager bf16 tensors round it. out may alias x or y.
extern "C" __global__ void pg_rounded_scale_add(float alpha, const void* x, int x_type, const void* y, int y_type,
                                                void* out, int out_type, long long n) {
    bool vectorized = pg_aligned<4>(x, x_type) && pg_aligned<4>(out, out_type)
            && (y == nullptr || pg_aligned<4>(y, y_type));
    pg_for_each_chunk(n, vectorized, [&](auto width, long long i) {
        constexpr int VEC = decltype(width)::value;
        float v[VEC];
        float w[VEC];
        pg_load_vec<VEC>(x, x_type, i, v);
        if (y != nullptr) {
            pg_load_vec<VEC>(y, y_type, i, w);
        }
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            v[k] = pg_round_bf16(alpha * v[k]);
            if (y != nullptr) {
                v[k] = pg_round_bf16(v[k] + w[k]);
            }
        }
        pg_store_vec<VEC>(out, out_type, i, v);
    });
}

// Muon's update of parameters from a stack (io.pgolf.gpu.OptimizerOps.applyRoundedUpdate): over sets (param), set s
// updated from matrix s of `update`: u = bf16(scale update); param = -lr u + decay param.
extern "C" __global__ void pg_apply_rounded_update(const PgTensorSet<1>* sets, int count, const void* update,
                                                   int update_type, float scale, float neg_lr, float decay) {
    int s = pg_set_of_chunk(sets, count, blockIdx.x);
    const PgTensorSet<1>& set = sets[s];
    void* address[2] = {reinterpret_cast<void*>(set.address[0]), pg_stack_matrix(update, update_type, s, set.n)};
    int type[2] = {(int)set.type[0], update_type};
    pg_for_each_in_set_chunk<2>(set.first_chunk, set.n, address, type,
                                [&](auto width, void* const* operand, const int* operand_type, long long i) {
        constexpr int VEC = decltype(width)::value;
        float p[VEC];
        float u[VEC];
        pg_load_vec<VEC>(operand[0], operand_type[0], i, p);
        pg_load_vec<VEC>(operand[1], operand_type[1], i, u);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            p[k] = neg_lr * pg_round_bf16(scale * u[k]) + decay * p[k];
        }
        pg_store_vec<VEC>(operand[0], operand_type[0], i, p);
    });
}
