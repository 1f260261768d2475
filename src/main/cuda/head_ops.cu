// LayerOps' per-head kernels (io.pgolf.gpu.cuda.CudaLayerOps): q, k and v taken apart from their one product, with
// q/k rms_norm + rotary embedding + gain, before attention (XSA after it is fused into attention.cu). They are
// memory-bound, so every value lives in a register from one vector load: the lanes of a warp split into groups of
// `group_lanes` (a power of two), one head per group, lane j of a group holding the head's values [j VEC, (j + 1) VEC)
// (16 bytes of bf16 at VEC 8); lanes past headDim / VEC hold zeros. A sum over a head is a butterfly of shuffles
// within its group, and a value's rotary partner (e +- half) sits half / VEC lanes away in the same slot, one
// shuffle. No shared-memory staging and no block barriers, so a warp's loads are all in flight at once. The Java side
// picks VEC (it divides headDim and the rotary half) and group_lanes; tensors are whole memory-pool blocks, aligned
// for any VEC; (row, head) indices are 32-bit (the Java side checks the counts), as 64-bit divisions would cost more
// than the loads. Backward ops add into their gradient outputs (pg_accumulate_vec).
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

// The heads of a q|k|v row: `heads` query heads, then `kv_heads` key heads, then `kv_heads` value heads; head h of
// row n starts at (n (heads + 2 kv_heads) + h) head_dim in q|k|v. Where it goes in its own output (q, k or v):
__device__ __forceinline__ long long qkv_out_base(int row, int head, int heads, int kv_heads, int head_dim) {
    bool query = head < heads;
    bool value = head >= heads + kv_heads;
    int own = query ? head : value ? head - heads - kv_heads : head - heads;
    return ((long long)row * (query ? heads : kv_heads) + own) * head_dim;
}

// 1 / sqrt(sum_squares / head_dim + eps) on the hardware reciprocal square root (2 ulp): sqrtf and two divisions
// took ~60 instructions per lane for 8 values.
__device__ __forceinline__ float inverse_rms(float sum_squares, int head_dim, float eps) {
    return rsqrtf(fmaf(sum_squares, __frcp_rn((float)head_dim), eps));
}

// Per (row, head) pair of q|k|v: a query or key head's u = x * invRms, invRms = 1 / sqrt(mean(x^2) + eps) (saved at
// inv_rms[row * (heads + kv_heads) + head]), goes out as R(u) * gain[head] (q) or R(u) (k); a value head goes out
// as it is. The grid is (ceil(seq_len / P), heads + 2 kv_heads, batch), P = PG_ROW_WARPS * 32 / group_lanes: a block
// takes P positions of one head of one sequence, its lane groups one position each, so that the row, the position
// and the head come from the block index without integer divisions (two of them cost as much as the arithmetic).
template <int VEC>
__device__ __forceinline__ void qkv_norm_rope(const void* qkv, int qkv_type, int heads, int kv_heads, int head_dim,
                                              int group_lanes, const void* cos, int cos_type, const void* sin,
                                              int sin_type, int rope_dims, int seq_len, const void* gain,
                                              int gain_type, float eps, void* q, int q_type, void* k, int k_type,
                                              void* v, int v_type, float* inv_rms) {
    int lane = threadIdx.x & 31;
    int slot = lane & (group_lanes - 1);
    int group_shift = __ffs(group_lanes) - 1;
    int position = (blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5)) * (32 >> group_shift) + (lane >> group_shift);
    int head = blockIdx.y;
    int row = blockIdx.z * seq_len + position;
    bool query = head < heads;
    bool value = head >= heads + kv_heads;
    bool active = position < seq_len && slot * VEC < head_dim;
    long long base = ((long long)row * (heads + 2 * kv_heads) + head) * head_dim + slot * VEC;
    float u[VEC] = {};
    if (active) {
        pg_load_vec<VEC>(qkv, qkv_type, base, u);
    }
    float inv = inverse_rms(group_sum(dot<VEC>(u, u), group_lanes), head_dim, eps);
    Rotation r = rotation_of<VEC>(lane, slot, rope_dims, position);
    r.rotated = r.rotated && !value;
    float g = value ? 1.0f : query ? inv * pg_load(gain, gain_type, head) : inv;
#pragma unroll
    for (int k = 0; k < VEC; k++) {
        u[k] *= g;
    }
    // R(u) g = R(u g): the gain is folded into the normalizing factor.
    rotate<VEC>(u, r, cos, cos_type, sin, sin_type, false);
    if (!active) {
        return;
    }
    if (!value && slot == 0) {
        inv_rms[row * (heads + kv_heads) + head] = inv;
    }
    void* out = query ? q : value ? v : k;
    int out_type = query ? q_type : value ? v_type : k_type;
    pg_store_vec<VEC>(out, out_type, qkv_out_base(row, head, heads, kv_heads, head_dim) + slot * VEC, u);
}

// Per pair of a query or key head, with n = x r (r = invRms) and out = g R(n) (g = 1 for a key), and with
// S = sum(R^T(dOut) . x): dGain[head] += sum(dOut . R(n)) = r S for a query; dQkv += r (g R^T(dOut) - x g r^2 S /
// head_dim), one rotation and one sum over the head for both. A value head's dOut is added as it is. Block b takes
// the pairs of rows [b rows_per_block, (b + 1) rows_per_block), its warps G pairs at a time in a fixed order, so
// every element of dQkv is written once; each lane group sums its query heads' dGain terms in shared memory
// (dynamic: PG_ROW_WARPS * G * heads floats) and partials[b][head] receives the block's total, added in warp and
// group order, for pg_sum_column_partials: deterministic. A lane group's (row, head, position) advance by fixed steps
// from one division at the start, not three divisions per pair.
template <int VEC>
__device__ __forceinline__ void qkv_norm_rope_backward(const void* qkv, int qkv_type, int heads, int kv_heads,
                                                       int head_dim, int group_lanes, const void* cos, int cos_type,
                                                       const void* sin, int sin_type, int rope_dims, int seq_len,
                                                       const void* gain, int gain_type, const float* inv_rms,
                                                       const void* d_q, int d_q_type, const void* d_k, int d_k_type,
                                                       const void* d_v, int d_v_type, void* d_qkv, int d_qkv_type,
                                                       float* partials, int rows, int rows_per_block) {
    extern __shared__ float gain_sums[];
    // group_lanes is a power of two: shifts, not divisions by a value the compiler does not know.
    int group_shift = __ffs(group_lanes) - 1;
    int groups = 32 >> group_shift;
    int warp = threadIdx.x >> 5;
    int lane = threadIdx.x & 31;
    int slot = lane & (group_lanes - 1);
    int lane_group = lane >> group_shift;
    int row_heads = heads + 2 * kv_heads;
    float* own_sums = gain_sums + (warp * groups + lane_group) * heads;
    for (int i = threadIdx.x; i < PG_ROW_WARPS * groups * heads; i += blockDim.x) {
        gain_sums[i] = 0.0f;
    }
    __syncthreads();
    float inv_head_dim = __frcp_rn((float)head_dim);
    int step = PG_ROW_WARPS * groups;
    int step_rows = step / row_heads;
    int step_heads = step - step_rows * row_heads;
    int start = blockIdx.x * rows_per_block * row_heads + warp * groups;
    int row = (start + lane_group) / row_heads;
    int head = start + lane_group - row * row_heads;
    int position = row % seq_len;
    int end = min(rows, (int)(blockIdx.x + 1) * rows_per_block) * row_heads;
    for (int pass = start; pass < end; pass += step) {
        int pair = pass + lane_group;
        bool query = head < heads;
        bool value = head >= heads + kv_heads;
        bool active = pair < end && slot * VEC < head_dim;
        long long base = (long long)pair * head_dim + slot * VEC;
        float h[VEC] = {};
        float dn[VEC] = {};
        float inv = 0.0f;
        if (active) {
            const void* d_out = query ? d_q : value ? d_v : d_k;
            int d_out_type = query ? d_q_type : value ? d_v_type : d_k_type;
            pg_load_vec<VEC>(d_out, d_out_type, qkv_out_base(row, head, heads, kv_heads, head_dim) + slot * VEC, dn);
            // A value head's gradient passes through: its x is not needed.
            if (!value) {
                pg_load_vec<VEC>(qkv, qkv_type, base, h);
                inv = inv_rms[row * (heads + kv_heads) + head];
            }
        }
        Rotation r = rotation_of<VEC>(lane, slot, rope_dims, position);
        r.rotated = r.rotated && !value;
        rotate<VEC>(dn, r, cos, cos_type, sin, sin_type, true);
        float projected = group_sum(dot<VEC>(dn, h), group_lanes);
        float g = active && query ? pg_load(gain, gain_type, head) : 1.0f;
        if (active) {
            if (!value) {
                float projection = g * projected * inv * inv * inv_head_dim;
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    dn[k] = inv * (g * dn[k] - h[k] * projection);
                }
            }
            pg_accumulate_vec<VEC>(d_qkv, d_qkv_type, base, dn);
            if (query && slot == 0) {
                own_sums[head] += projected * inv;
            }
        }
        head += step_heads;
        row += step_rows;
        position += step_rows;
        if (head >= row_heads) {
            head -= row_heads;
            row++;
            position++;
        }
        while (position >= seq_len) {
            position -= seq_len;
        }
    }
    __syncthreads();
    for (int head = threadIdx.x; head < heads; head += blockDim.x) {
        float total = 0.0f;
        for (int s = 0; s < PG_ROW_WARPS * groups; s++) {
            total += gain_sums[s * heads + head];
        }
        partials[(long long)blockIdx.x * heads + head] = total;
    }
}

// The entry points, one per vector width (suffix _vN); CudaLayerOps launches blocks of PG_ROW_WARPS warps. Both are
// bound by the bytes in flight per SM: the forward at 40 registers (6 blocks per SM) takes 0.171 ms on the record's
// q|k|v (H100) against 0.188 ms at 50 (4 blocks), 0.352 ms at 32 (spilling); the backward stays at 64 (0.270 ms; at
// 48 or 40 registers it spills and takes 0.40 / 0.65 ms).
#define PG_HEAD_KERNELS(VEC)                                                                                           \
    extern "C" __global__ void __launch_bounds__(PG_ROW_WARPS * 32, 6) pg_qkv_norm_rope_v##VEC(                       \
            const void* qkv, int qkv_type, int heads, int kv_heads, int head_dim, int group_lanes, const void* cos,   \
            int cos_type, const void* sin, int sin_type, int rope_dims, int seq_len, const void* gain,                \
            int gain_type, float eps, void* q, int q_type, void* k, int k_type, void* v, int v_type, float* inv_rms) { \
        qkv_norm_rope<VEC>(qkv, qkv_type, heads, kv_heads, head_dim, group_lanes, cos, cos_type, sin, sin_type,       \
                           rope_dims, seq_len, gain, gain_type, eps, q, q_type, k, k_type, v, v_type, inv_rms);        \
    }                                                                                                                  \
    extern "C" __global__ void __launch_bounds__(PG_ROW_WARPS * 32, 4) pg_qkv_norm_rope_backward_v##VEC(              \
            const void* qkv, int qkv_type, int heads, int kv_heads, int head_dim, int group_lanes, const void* cos,   \
            int cos_type, const void* sin, int sin_type, int rope_dims, int seq_len, const void* gain,                \
            int gain_type, const float* inv_rms, const void* d_q, int d_q_type, const void* d_k, int d_k_type,        \
            const void* d_v, int d_v_type, void* d_qkv, int d_qkv_type, float* partials, int rows,                    \
            int rows_per_block) {                                                                                      \
        qkv_norm_rope_backward<VEC>(qkv, qkv_type, heads, kv_heads, head_dim, group_lanes, cos, cos_type, sin,        \
                                    sin_type, rope_dims, seq_len, gain, gain_type, inv_rms, d_q, d_q_type, d_k,       \
                                    d_k_type, d_v, d_v_type, d_qkv, d_qkv_type, partials, rows, rows_per_block);      \
    }

PG_HEAD_KERNELS(1)
PG_HEAD_KERNELS(2)
PG_HEAD_KERNELS(4)
PG_HEAD_KERNELS(8)
