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

// 2^x and 1/x in their flush-to-zero forms, one special-function instruction each: the non-flushing exp2f and
// __fdividef add a range test and two rescaling multiplies around it, which made up a third of the cross-entropy's
// instructions per logit. Results below 2^-126 become 0; the cross-entropy's never matter at that size.
__device__ __forceinline__ float exp2_ftz(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

__device__ __forceinline__ float reciprocal_ftz(float x) {
    float y;
    asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// The softcap through the logistic function: with a = z / cap, tanh(a) = 1 - 2 s, s = 1 / (1 + e^(2a)), so the
// softcapped logit is c = cap (1 - 2 s) and dc/dz = 1 - tanh^2 = 4 s (1 - s). s takes one multiply (by
// two_log2e_over_cap = 2 log2(e) / cap), two special-function ops and an add, and, unlike tanh, needs no sign fix-up:
// e^(2a) overflows to inf for large a (s = 0, c = cap) and flushes to 0 for very negative a (s = 1, c = -cap).
__device__ __forceinline__ float softcap_complement(float z, float two_log2e_over_cap) {
    return reciprocal_ftz(1.0f + exp2_ftz(z * two_log2e_over_cap));
}

// The largest of every thread's v (blockDim.x a multiple of 32); every thread gets it. scratch: 32 floats of shared
// memory; like pg_block_sum the call begins with a barrier, so the two may share scratch back to back.
__device__ __forceinline__ float block_max(float v, float* scratch) {
    __syncthreads();
    for (int offset = 16; offset > 0; offset >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    }
    if ((threadIdx.x & 31) == 0) {
        scratch[threadIdx.x >> 5] = v;
    }
    __syncthreads();
    v = (threadIdx.x & 31) < (blockDim.x >> 5) ? scratch[threadIdx.x & 31] : -INFINITY;
    for (int offset = 16; offset > 0; offset >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    }
    return v;
}

// Logits each thread of a cross-entropy block holds in registers (CROSS_ENTROPY_VALUES_PER_THREAD of
// CudaLayerOps): a block has ceil(vocab / 16) threads rounded up to whole warps, 512 for a row of 8192.
#define CE_VALUES_PER_THREAD 16

// The row blockIdx.x of z [rows, vocab]: c = cap * tanh(z / cap); loss[row] = logsumexp(c) - c[target] (natural
// log, float32). The row is read from memory once, into registers (all of a thread's loads issued before the first
// use, so the whole row is in flight at once). The softcap is increasing, so the row's largest logit c_max is the
// softcap of its largest z, found by a block-wide max before any exponential; every thread then sums
// exp(c - c_max) = 2^(2 cap log2(e) (s_max - s)) (softcap_complement's s) against that one shift, one fused
// multiply-add and one exp2 per logit, and a plain block sum (no per-thread maxima to reconcile) gives the total.
// When d_z is not null each thread keeps exp(c - c_max) * s (1 - s) in place of z and, once the total is known, adds
// grad_scale * (softmax(c) - onehot(target)) * 4 s (1 - s) into d_z through pg_accumulate_vec: no second read of z.
// Thread t's chunk k of VEC logits starts at (k * blockDim + t) * VEC, so every load and store of a warp is one
// contiguous span. VEC > 1 needs vocab % VEC == 0 and z, d_z aligned to VEC values.
template <int VEC>
__device__ __forceinline__ void softcap_cross_entropy_row(const void* z, int z_type, const int* targets, float cap,
                                                          float* loss, void* d_z, int d_z_type, float grad_scale,
                                                          int rows, int vocab) {
    constexpr int CHUNKS = CE_VALUES_PER_THREAD / VEC;
    __shared__ float scratch[32];
    int row = blockIdx.x;
    if (row >= rows) {
        return;
    }
    int target = targets[row];
    pg_require_index(target, vocab, row, "target");
    long long base = (long long)row * vocab;
    float two_log2e_over_cap = 2.0f * CUDART_L2E_F / cap;
    float exponent_scale = 2.0f * CUDART_L2E_F * cap;
    float target_s = softcap_complement(pg_load(z, z_type, base + target), two_log2e_over_cap);
    // Chunks k < held lie inside the row (a thread past the end of a short row holds none).
    int row_chunks = vocab / VEC;
    int held = (int)threadIdx.x < row_chunks ? (row_chunks - threadIdx.x + blockDim.x - 1) / blockDim.x : 0;
    float v[CHUNKS][VEC];
#pragma unroll
    for (int k = 0; k < CHUNKS; k++) {
        if (k < held) {
            pg_load_vec<VEC>(z, z_type, base + (k * blockDim.x + threadIdx.x) * VEC, v[k]);
        }
    }
    float z_max = -INFINITY;
#pragma unroll
    for (int k = 0; k < CHUNKS; k++) {
        if (k < held) {
#pragma unroll
            for (int i = 0; i < VEC; i++) {
                z_max = fmaxf(z_max, v[k][i]);
            }
        }
    }
    float max_s = softcap_complement(block_max(z_max, scratch), two_log2e_over_cap);
    float max_exponent = exponent_scale * max_s;
    float sum = 0.0f;
#pragma unroll
    for (int k = 0; k < CHUNKS; k++) {
        if (k < held) {
#pragma unroll
            for (int i = 0; i < VEC; i++) {
                float s = softcap_complement(v[k][i], two_log2e_over_cap);
                float e = exp2_ftz(fmaf(s, -exponent_scale, max_exponent));
                sum += e;
                v[k][i] = e * fmaf(-s, s, s);
            }
        }
    }
    sum = pg_block_sum(sum, scratch);
    if (threadIdx.x == 0) {
        // c_max - c[target] = 2 cap (s[target] - s_max): exact when the two are close, so a confident row keeps its
        // small loss.
        loss[row] = 2.0f * cap * (target_s - max_s) + logf(sum);
    }
    if (d_z == nullptr) {
        return;
    }
    float probability_scale = 4.0f * grad_scale / sum;
    float target_slope = 4.0f * grad_scale * fmaf(-target_s, target_s, target_s);
#pragma unroll
    for (int k = 0; k < CHUNKS; k++) {
        if (k < held) {
            int j = (k * blockDim.x + threadIdx.x) * VEC;
            float g[VEC];
#pragma unroll
            for (int i = 0; i < VEC; i++) {
                g[i] = v[k][i] * probability_scale;
            }
            if ((unsigned)(target - j) < (unsigned)VEC) {
#pragma unroll
                for (int i = 0; i < VEC; i++) {
                    if (j + i == target) {
                        g[i] -= target_slope;
                    }
                }
            }
            pg_accumulate_vec<VEC>(d_z, d_z_type, base + j, g);
        }
    }
}

// The cross-entropy is bound by how many rows are in flight, not by its arithmetic: each block loads its whole row
// before the first barrier, so the bytes in flight are the rows resident per SM. __launch_bounds__(1024, 2) holds a
// thread to 32 registers (a few spilled), so four 512-thread rows share an SM instead of two at 42 registers. H100,
// [98304, 8192] bf16 in place: 1.348 ms against 1.853 ms at 42 registers (1.519 ms at 40, three rows per SM).
#define CE_LAUNCH_BOUNDS __launch_bounds__(1024, 2)

// softcap_cross_entropy_row eight logits at a time (16-byte loads of bf16): vocab % 8 == 0, z and d_z aligned to 8
// values. Blocks as for the four-wide kernel.
extern "C" __global__ void CE_LAUNCH_BOUNDS pg_softcap_cross_entropy_vec8(
        const void* z, int z_type, const int* targets, float cap, float* loss, void* d_z, int d_z_type,
        float grad_scale, int rows, int vocab) {
    softcap_cross_entropy_row<8>(z, z_type, targets, cap, loss, d_z, d_z_type, grad_scale, rows, vocab);
}

// softcap_cross_entropy_row four logits at a time: vocab % 4 == 0, z and d_z aligned to 4 values. One block per row,
// a multiple of 32 threads, at most 1024, with blockDim * CE_VALUES_PER_THREAD >= vocab. A kernel of its own (not a
// branch of the general one) so that its register count, and so the rows in flight per SM, is its own.
extern "C" __global__ void CE_LAUNCH_BOUNDS pg_softcap_cross_entropy_vec4(
        const void* z, int z_type, const int* targets, float cap, float* loss, void* d_z, int d_z_type,
        float grad_scale, int rows, int vocab) {
    softcap_cross_entropy_row<4>(z, z_type, targets, cap, loss, d_z, d_z_type, grad_scale, rows, vocab);
}

// softcap_cross_entropy_row one logit at a time, for any vocab and alignment; blocks as for the vectorized kernel.
extern "C" __global__ void CE_LAUNCH_BOUNDS pg_softcap_cross_entropy(
        const void* z, int z_type, const int* targets, float cap, float* loss, void* d_z, int d_z_type,
        float grad_scale, int rows, int vocab) {
    softcap_cross_entropy_row<1>(z, z_type, targets, cap, loss, d_z, d_z_type, grad_scale, rows, vocab);
}
