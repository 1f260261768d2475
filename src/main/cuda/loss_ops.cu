// LayerOps' output-head kernels (io.pgolf.gpu.cuda.CudaLayerOps): the logit softcap c = cap * tanh(z / cap) and
// the cross-entropy of the softcapped logits fused with its gradient.
#include "pgolf_vec.cuh"

// out = cap * tanh(z / cap), elementwise.
extern "C" __global__ void pg_softcap(const void* z, int z_type, float cap, void* out, int out_type, long long n) {
    bool vectorized = pg_aligned<4>(z, z_type) && pg_aligned<4>(out, out_type);
    pg_for_each_chunk(n, vectorized, [&](auto width, long long i) {
        constexpr int VEC = decltype(width)::value;
        float v[VEC];
        pg_load_vec<VEC>(z, z_type, i, v);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            v[k] = cap * tanhf(v[k] / cap);
        }
        pg_store_vec<VEC>(out, out_type, i, v);
    });
}

// A running log-sum-exp: the largest logit seen and the sum of exp(logit - max) over the logits seen.
struct LogSumExp {
    float max;
    float sum;
};

__device__ __forceinline__ void lse_add(LogSumExp& s, float c) {
    if (c > s.max) {
        s.sum = s.sum * expf(s.max - c) + 1.0f;
        s.max = c;
    } else {
        s.sum += expf(c - s.max);
    }
}

// Symmetric in its arguments (so every lane of a butterfly ends with the same bits); two empty sums stay empty
// instead of giving exp(-inf - -inf) = NaN.
__device__ __forceinline__ LogSumExp lse_merge(LogSumExp a, LogSumExp b) {
    float m = fmaxf(a.max, b.max);
    if (m == -INFINITY) {
        return LogSumExp{m, 0.0f};
    }
    return LogSumExp{m, a.sum * expf(a.max - m) + b.sum * expf(b.max - m)};
}

__device__ __forceinline__ LogSumExp lse_warp_merge(LogSumExp s) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        LogSumExp other{__shfl_xor_sync(0xffffffffu, s.max, offset), __shfl_xor_sync(0xffffffffu, s.sum, offset)};
        s = lse_merge(s, other);
    }
    return s;
}

// One block per row of z [rows, vocab]: c = cap * tanh(z / cap); loss[row] = logsumexp(c) - c[target] (natural
// log, float32). One sweep over z computes tanh and an online log-sum-exp per thread, merged over the block. When
// d_z is not null, tanh(z / cap) is kept in shared memory (dynamic, vocab floats) and a second sweep adds
// grad_scale * (softmax(c) - onehot(target)) * (1 - tanh^2) into d_z; the target's two terms are added one after
// the other, as the CPU reference does. Blocks of a multiple of 32 threads, at most 1024.
extern "C" __global__ void pg_softcap_cross_entropy(const void* z, int z_type, const int* targets, float cap,
                                                    float* loss, void* d_z, int d_z_type, float grad_scale, int rows,
                                                    int vocab) {
    extern __shared__ float row_tanh[];
    __shared__ LogSumExp warp_sums[32];
    int row = blockIdx.x;
    if (row >= rows) {
        return;
    }
    int target = targets[row];
    pg_require_index(target, vocab, row, "target");
    long long base = (long long)row * vocab;
    bool keep = d_z != nullptr;
    bool vectorized = vocab % 4 == 0 && pg_aligned<4>(z, z_type) && pg_aligned<4>(d_z, d_z_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        LogSumExp s{-INFINITY, 0.0f};
        for (int j = threadIdx.x * VEC; j < vocab; j += blockDim.x * VEC) {
            float v[VEC];
            pg_load_vec<VEC>(z, z_type, base + j, v);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                float t = tanhf(v[k] / cap);
                if (keep) {
                    row_tanh[j + k] = t;
                }
                lse_add(s, cap * t);
            }
        }
        s = lse_warp_merge(s);
        if ((threadIdx.x & 31) == 0) {
            warp_sums[threadIdx.x >> 5] = s;
        }
        __syncthreads();
        // Every warp merges the per-warp sums itself, in the same order, so all threads hold the same total.
        int warps = blockDim.x >> 5;
        s = (threadIdx.x & 31) < warps ? warp_sums[threadIdx.x & 31] : LogSumExp{-INFINITY, 0.0f};
        s = lse_warp_merge(s);
        if (threadIdx.x == 0) {
            float target_logit = cap * tanhf(pg_load(z, z_type, base + target) / cap);
            loss[row] = s.max + logf(s.sum) - target_logit;
        }
        if (!keep) {
            return;
        }
        float probability_scale = grad_scale / s.sum;
        for (int j = threadIdx.x * VEC; j < vocab; j += blockDim.x * VEC) {
            float g[VEC];
            pg_load_vec<VEC>(d_z, d_z_type, base + j, g);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                float t = row_tanh[j + k];
                float slope = 1.0f - t * t;
                g[k] += expf(cap * t - s.max) * probability_scale * slope;
                if (j + k == target) {
                    g[k] -= grad_scale * slope;
                }
            }
            pg_store_vec<VEC>(d_z, d_z_type, base + j, g);
        }
    });
}
