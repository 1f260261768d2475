// LayerOps' output-head kernels (io.pgolf.gpu.cuda.CudaLayerOps): the logit softcap c = cap * tanh(z / cap) and
// the cross-entropy of the softcapped logits fused with its gradient.
#include "pgolf_vec.cuh"
#include <math_constants.h>

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

// tanh(x) = sign(x) * (1 - 2 / (exp(2|x|) + 1)) on the hardware exp2 and reciprocal: two special-function ops per
// logit instead of tanhf's longer sequence (the cross-entropy's arithmetic per logit, not its ~6 bytes of traffic,
// decides whether it keeps up with memory). Near 0 the result loses relative but not absolute accuracy (~3e-7),
// and absolute accuracy is what exp(cap * t) needs. Large |x|: exp overflows to inf, the quotient to 0, t to +-1.
__device__ __forceinline__ float softcap_tanh(float x) {
    float e = exp2f(2.0f * CUDART_L2E_F * fabsf(x));
    return copysignf(1.0f - __fdividef(2.0f, e + 1.0f), x);
}

// A running log-sum-exp: the largest logit seen and the sum of exp(logit - max) over the logits seen.
struct LogSumExp {
    float max;
    float sum;
};

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

// The block's total of every thread's s; every thread gets the same bits. warp_sums: 32 slots of shared memory.
__device__ __forceinline__ LogSumExp lse_block_merge(LogSumExp s, LogSumExp* warp_sums) {
    s = lse_warp_merge(s);
    if ((threadIdx.x & 31) == 0) {
        warp_sums[threadIdx.x >> 5] = s;
    }
    __syncthreads();
    // Every warp merges the per-warp sums itself, in the same order, so all threads hold the same total.
    int warps = blockDim.x >> 5;
    s = (threadIdx.x & 31) < warps ? warp_sums[threadIdx.x & 31] : LogSumExp{-INFINITY, 0.0f};
    return lse_warp_merge(s);
}

// Logits each thread of a cross-entropy block holds in registers (CROSS_ENTROPY_VALUES_PER_THREAD of
// CudaLayerOps): a block has ceil(vocab / 16) threads rounded up to whole warps, 512 for a row of 8192. At 16 a thread
// of the vectorized kernel needs 40 registers, so three such blocks (three rows in flight) share an SM.
#define CE_VALUES_PER_THREAD 16

// The row blockIdx.x of z [rows, vocab]: c = cap * tanh(z / cap); loss[row] = logsumexp(c) - c[target] (natural
// log, float32). The row is read from memory once, into registers (all of a thread's loads issued before the first
// use, so the whole row is in flight at once), and each thread takes the log-sum-exp of its own logits against its
// own max, so that one block-wide merge suffices. When d_z is not null each thread keeps exp(c - own max) *
// (1 - tanh^2) in place of c and, once the row's total is known, adds grad_scale * (softmax(c) - onehot(target)) *
// (1 - tanh^2) into d_z through pg_accumulate_vec: no second read of z. Thread t's chunk k of VEC logits starts at
// (k * blockDim + t) * VEC, so every load and store of a warp is one contiguous span. VEC > 1 needs vocab % VEC == 0
// and z, d_z aligned to VEC values.
template <int VEC>
__device__ __forceinline__ void softcap_cross_entropy_row(const void* z, int z_type, const int* targets, float cap,
                                                          float* loss, void* d_z, int d_z_type, float grad_scale,
                                                          int rows, int vocab) {
    constexpr int CHUNKS = CE_VALUES_PER_THREAD / VEC;
    __shared__ LogSumExp warp_sums[32];
    int row = blockIdx.x;
    if (row >= rows) {
        return;
    }
    int target = targets[row];
    pg_require_index(target, vocab, row, "target");
    long long base = (long long)row * vocab;
    float inv_cap = 1.0f / cap;
    bool keep = d_z != nullptr;
    float target_tanh = softcap_tanh(pg_load(z, z_type, base + target) * inv_cap);
    // Chunks k < held lie inside the row (a thread past the end of a short row holds none).
    int row_chunks = vocab / VEC;
    int held = (int)threadIdx.x < row_chunks ? (row_chunks - threadIdx.x + blockDim.x - 1) / blockDim.x : 0;
    float c[CHUNKS][VEC];
#pragma unroll
    for (int k = 0; k < CHUNKS; k++) {
        if (k < held) {
            pg_load_vec<VEC>(z, z_type, base + (k * blockDim.x + threadIdx.x) * VEC, c[k]);
        }
    }
    float max = -INFINITY;
#pragma unroll
    for (int k = 0; k < CHUNKS; k++) {
        if (k < held) {
#pragma unroll
            for (int i = 0; i < VEC; i++) {
                c[k][i] = cap * softcap_tanh(c[k][i] * inv_cap);
                max = fmaxf(max, c[k][i]);
            }
        }
    }
    float sum = 0.0f;
#pragma unroll
    for (int k = 0; k < CHUNKS; k++) {
        if (k < held) {
#pragma unroll
            for (int i = 0; i < VEC; i++) {
                float e = exp2f((c[k][i] - max) * CUDART_L2E_F);
                sum += e;
                if (keep) {
                    float t = c[k][i] * inv_cap;
                    c[k][i] = e * fmaf(-t, t, 1.0f);
                }
            }
        }
    }
    LogSumExp total = lse_block_merge(LogSumExp{max, sum}, warp_sums);
    if (threadIdx.x == 0) {
        // The max minus the target's logit first: exact when the two are close, so a confident row keeps its small
        // loss.
        loss[row] = (total.max - cap * target_tanh) + logf(total.sum);
    }
    if (!keep) {
        return;
    }
    // exp(c - own max) * exp(own max - row max) / sum = softmax(c); 0 for a thread without logits (max = -inf).
    float probability_scale = expf(max - total.max) * (grad_scale / total.sum);
    float target_slope = fmaf(-target_tanh, target_tanh, 1.0f);
#pragma unroll
    for (int k = 0; k < CHUNKS; k++) {
        if (k < held) {
            int j = (k * blockDim.x + threadIdx.x) * VEC;
            float g[VEC];
#pragma unroll
            for (int i = 0; i < VEC; i++) {
                g[i] = c[k][i] * probability_scale;
            }
            if ((unsigned)(target - j) < (unsigned)VEC) {
#pragma unroll
                for (int i = 0; i < VEC; i++) {
                    if (j + i == target) {
                        g[i] -= grad_scale * target_slope;
                    }
                }
            }
            pg_accumulate_vec<VEC>(d_z, d_z_type, base + j, g);
        }
    }
}

// softcap_cross_entropy_row eight logits at a time (16-byte loads of bf16): vocab % 8 == 0, z and d_z aligned to 8
// values. Blocks as for the four-wide kernel.
extern "C" __global__ void __launch_bounds__(1024) pg_softcap_cross_entropy_vec8(
        const void* z, int z_type, const int* targets, float cap, float* loss, void* d_z, int d_z_type,
        float grad_scale, int rows, int vocab) {
    softcap_cross_entropy_row<8>(z, z_type, targets, cap, loss, d_z, d_z_type, grad_scale, rows, vocab);
}

// softcap_cross_entropy_row four logits at a time: vocab % 4 == 0, z and d_z aligned to 4 values. One block per row,
// a multiple of 32 threads, at most 1024, with blockDim * CE_VALUES_PER_THREAD >= vocab. A kernel of its own (not a
// branch of the general one) so that its register count, and so the rows in flight per SM, is its own.
extern "C" __global__ void __launch_bounds__(1024) pg_softcap_cross_entropy_vec4(
        const void* z, int z_type, const int* targets, float cap, float* loss, void* d_z, int d_z_type,
        float grad_scale, int rows, int vocab) {
    softcap_cross_entropy_row<4>(z, z_type, targets, cap, loss, d_z, d_z_type, grad_scale, rows, vocab);
}

// softcap_cross_entropy_row one logit at a time, for any vocab and alignment; blocks as for the vectorized kernel.
extern "C" __global__ void __launch_bounds__(1024) pg_softcap_cross_entropy(
        const void* z, int z_type, const int* targets, float cap, float* loss, void* d_z, int d_z_type,
        float grad_scale, int rows, int vocab) {
    softcap_cross_entropy_row<1>(z, z_type, targets, cap, loss, d_z, d_z_type, grad_scale, rows, vocab);
}
