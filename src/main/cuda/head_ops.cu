// LayerOps' per-head kernels (io.pgolf.gpu.cuda.CudaLayerOps): q/k rms_norm + rotary embedding + gain before
// attention (XSA after it is fused into attention.cu). They are memory-bound, so every value lives in a register from one vector load: the lanes
// of a warp split into groups of `group_lanes` (a power of two), one head per group, lane j of a group holding the
// head's values [j VEC, (j + 1) VEC) (16 bytes of bf16 at VEC 8); lanes past headDim / VEC hold zeros. A sum over a
// head is a butterfly of shuffles within its group, and a value's rotary partner (e +- half) sits half / VEC lanes
// away in the same slot, one shuffle. No shared-memory staging and no block barriers, so a warp's loads are all in
// flight at once. The Java side picks VEC (it divides headDim and the rotary half) and group_lanes; tensors are whole
// memory-pool blocks, aligned for any VEC; (row, head) indices are 32-bit (the Java side checks the counts), as 64-bit
// divisions would cost more than the loads. Backward ops add into their gradient outputs (pg_accumulate_vec).
#include "pgolf_vec.cuh"

#define FULL_MASK 0xffffffffu

// The sum of v over the lanes of an aligned group of `lanes` (a power of two); every lane of the group gets it.
__device__ __forceinline__ float group_sum(float v, int lanes) {
    for (int offset = lanes >> 1; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(FULL_MASK, v, offset);
    }
    return v;
}

template <int VEC>
__device__ __forceinline__ float dot(const float* a, const float* b) {
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < VEC; k++) {
        s += a[k] * b[k];
    }
    return s;
}

// How the rotary embedding sees a lane: whether its values are rotated (the first `dims` of the head) and in which
// half, the lane holding their partners, and the cos / sin table index of its first value (a multiple of VEC, as
// VEC divides the half: the lane's VEC angles are one vector load).
struct Rotation {
    bool rotated;
    bool first_half;
    int partner_lane;
    long long angles;
};

template <int VEC>
__device__ __forceinline__ Rotation rotation_of(int lane, int slot, int rope_dims, int position) {
    int half = rope_dims / 2;
    int half_lanes = half / VEC;
    Rotation r;
    r.rotated = slot < 2 * half_lanes;
    r.first_half = slot < half_lanes;
    r.partner_lane = r.rotated ? (r.first_half ? lane + half_lanes : lane - half_lanes) : lane;
    r.angles = (long long)position * half + (r.first_half ? slot : slot - half_lanes) * VEC;
    return r;
}

// w = R w (transpose: R^T w) for the lane's values, R rotating value e < half with e + half by the table's angle:
// (R w)[e] = w[e] cos + w[e + half] sin, (R w)[e + half] = w[e + half] cos - w[e] sin. Every lane of the warp must
// call it (the partners come by shuffle).
template <int VEC>
__device__ __forceinline__ void rotate(float* w, const Rotation& r, const void* cos, int cos_type, const void* sin,
                                       int sin_type, bool transpose) {
    float partner[VEC];
#pragma unroll
    for (int k = 0; k < VEC; k++) {
        partner[k] = __shfl_sync(FULL_MASK, w[k], r.partner_lane);
    }
    if (!r.rotated) {
        return;
    }
    float sign = r.first_half != transpose ? 1.0f : -1.0f;
    float c[VEC];
    float s[VEC];
    pg_load_vec<VEC>(cos, cos_type, r.angles, c);
    pg_load_vec<VEC>(sin, sin_type, r.angles, s);
#pragma unroll
    for (int k = 0; k < VEC; k++) {
        w[k] = w[k] * c[k] + sign * partner[k] * s[k];
    }
}

// Per (row, head) pair: u = x * invRms, invRms = 1 / sqrt(mean(x^2) + eps) (saved at inv_rms[pair]);
// out = R(u) * gain[head] (gain null: 1). Warp w takes pairs [w G, (w + 1) G), G = 32 / group_lanes.
template <int VEC>
__device__ __forceinline__ void qk_norm_rope(const void* x, int x_type, int heads, int head_dim, int group_lanes,
                                             const void* cos, int cos_type, const void* sin, int sin_type,
                                             int rope_dims, int seq_len, const void* gain, int gain_type, float eps,
                                             void* out, int out_type, float* inv_rms, int pairs) {
    int lane = threadIdx.x & 31;
    int slot = lane & (group_lanes - 1);
    int warp = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    int pair = warp * (32 / group_lanes) + lane / group_lanes;
    bool active = pair < pairs && slot * VEC < head_dim;
    long long base = (long long)pair * head_dim + slot * VEC;
    float u[VEC] = {};
    if (active) {
        pg_load_vec<VEC>(x, x_type, base, u);
    }
    float inv = 1.0f / sqrtf(group_sum(dot<VEC>(u, u), group_lanes) / head_dim + eps);
#pragma unroll
    for (int k = 0; k < VEC; k++) {
        u[k] *= inv;
    }
    int row = pair / heads;
    rotate<VEC>(u, rotation_of<VEC>(lane, slot, rope_dims, row % seq_len), cos, cos_type, sin, sin_type, false);
    if (!active) {
        return;
    }
    float g = gain == nullptr ? 1.0f : pg_load(gain, gain_type, pair - row * heads);
#pragma unroll
    for (int k = 0; k < VEC; k++) {
        u[k] *= g;
    }
    if (slot == 0) {
        inv_rms[pair] = inv;
    }
    pg_store_vec<VEC>(out, out_type, base, u);
}

// Per pair, with n = x r (r = invRms) and out = g R(n): dGain[head] += sum(dOut . R(n)); dn = g R^T(dOut);
// dX += r (dn - x r^2 mean(dn x)). Block b takes the pairs of rows [b rows_per_block, (b + 1) rows_per_block), its
// warps G pairs at a time in a fixed order; when gain is not null each lane group sums its heads' dGain terms in
// shared memory (dynamic: PG_ROW_WARPS * G * heads floats) and partials[b][head] receives the block's total, added
// in warp and group order, for pg_sum_column_partials: deterministic.
template <int VEC>
__device__ __forceinline__ void qk_norm_rope_backward(const void* x, int x_type, int heads, int head_dim,
                                                      int group_lanes, const void* cos, int cos_type,
                                                      const void* sin, int sin_type, int rope_dims, int seq_len,
                                                      const void* gain, int gain_type, const float* inv_rms,
                                                      const void* d_out, int d_out_type, void* d_x, int d_x_type,
                                                      float* partials, int rows, int rows_per_block) {
    extern __shared__ float gain_sums[];
    int groups = 32 / group_lanes;
    int warp = threadIdx.x >> 5;
    int lane = threadIdx.x & 31;
    int slot = lane & (group_lanes - 1);
    int lane_group = lane / group_lanes;
    float* own_sums = gain_sums + (warp * groups + lane_group) * heads;
    if (gain != nullptr) {
        for (int i = threadIdx.x; i < PG_ROW_WARPS * groups * heads; i += blockDim.x) {
            gain_sums[i] = 0.0f;
        }
        __syncthreads();
    }
    int end = min(rows, (int)(blockIdx.x + 1) * rows_per_block) * heads;
    for (int pass = blockIdx.x * rows_per_block * heads + warp * groups; pass < end; pass += PG_ROW_WARPS * groups) {
        int pair = pass + lane_group;
        bool active = pair < end && slot * VEC < head_dim;
        long long base = (long long)pair * head_dim + slot * VEC;
        float h[VEC] = {};
        float go[VEC] = {};
        float inv = 0.0f;
        if (active) {
            pg_load_vec<VEC>(x, x_type, base, h);
            pg_load_vec<VEC>(d_out, d_out_type, base, go);
            inv = inv_rms[pair];
        }
        int row = pair / heads;
        int head = pair - row * heads;
        Rotation r = rotation_of<VEC>(lane, slot, rope_dims, row % seq_len);
        float n[VEC];
        float dn[VEC];
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            n[k] = h[k] * inv;
            dn[k] = go[k];
        }
        rotate<VEC>(n, r, cos, cos_type, sin, sin_type, false);
        rotate<VEC>(dn, r, cos, cos_type, sin, sin_type, true);
        float gain_term = group_sum(dot<VEC>(go, n), group_lanes);
        float g = gain == nullptr || !active ? 1.0f : pg_load(gain, gain_type, head);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            dn[k] *= g;
        }
        float projection = group_sum(dot<VEC>(dn, h), group_lanes) * inv * inv / head_dim;
        if (!active) {
            continue;
        }
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            dn[k] = inv * (dn[k] - h[k] * projection);
        }
        pg_accumulate_vec<VEC>(d_x, d_x_type, base, dn);
        if (gain != nullptr && slot == 0) {
            own_sums[head] += gain_term;
        }
    }
    if (gain != nullptr) {
        __syncthreads();
        for (int head = threadIdx.x; head < heads; head += blockDim.x) {
            float total = 0.0f;
            for (int s = 0; s < PG_ROW_WARPS * groups; s++) {
                total += gain_sums[s * heads + head];
            }
            partials[(long long)blockIdx.x * heads + head] = total;
        }
    }
}

// The entry points, one per vector width (suffix _vN); CudaLayerOps launches blocks of PG_ROW_WARPS warps.
#define PG_HEAD_KERNELS(VEC)                                                                                           \
    extern "C" __global__ void __launch_bounds__(PG_ROW_WARPS * 32) pg_qk_norm_rope_v##VEC(                           \
            const void* x, int x_type, int heads, int head_dim, int group_lanes, const void* cos, int cos_type,       \
            const void* sin, int sin_type, int rope_dims, int seq_len, const void* gain, int gain_type, float eps,    \
            void* out, int out_type, float* inv_rms, int pairs) {                                                     \
        qk_norm_rope<VEC>(x, x_type, heads, head_dim, group_lanes, cos, cos_type, sin, sin_type, rope_dims, seq_len,  \
                          gain, gain_type, eps, out, out_type, inv_rms, pairs);                                       \
    }                                                                                                                  \
    extern "C" __global__ void __launch_bounds__(PG_ROW_WARPS * 32, 4) pg_qk_norm_rope_backward_v##VEC(               \
            const void* x, int x_type, int heads, int head_dim, int group_lanes, const void* cos, int cos_type,       \
            const void* sin, int sin_type, int rope_dims, int seq_len, const void* gain, int gain_type,               \
            const float* inv_rms, const void* d_out, int d_out_type, void* d_x, int d_x_type, float* partials,        \
            int rows, int rows_per_block) {                                                                            \
        qk_norm_rope_backward<VEC>(x, x_type, heads, head_dim, group_lanes, cos, cos_type, sin, sin_type, rope_dims,  \
                                   seq_len, gain, gain_type, inv_rms, d_out, d_out_type, d_x, d_x_type, partials,     \
                                   rows, rows_per_block);                                                              \
    }

PG_HEAD_KERNELS(1)
PG_HEAD_KERNELS(2)
PG_HEAD_KERNELS(4)
PG_HEAD_KERNELS(8)
