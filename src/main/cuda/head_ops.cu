// LayerOps' per-head kernels (io.pgolf.gpu.cuda.CudaLayerOps): q/k rms_norm + rotary embedding + gain before
// attention, XSA after it. One warp per (row, head) pair, PG_ROW_WARPS pairs per 256-thread block; a head of 64
// values is one two-value load per lane. Pair p is row p / heads, head p % heads, so its values start at p * headDim
// in the [rows, heads * headDim] matrix. Backward ops add into their gradient outputs.
#include "pgolf_vec.cuh"

// The lower bound of the norm that F.normalize divides by (XSA's value directions).
#define NORMALIZE_EPS 1e-12f

// The rotary geometry of one row: its angles start at `angles` in the [positions, half] cos / sin tables; the
// first `dims` values of each head are rotated, value e < half with e + half.
struct Rope {
    const void* cos;
    int cos_type;
    const void* sin;
    int sin_type;
    int dims;
    int half;
    long long angles;
};

// Value e of a head as rotated, given the normalized u = x[e] * inv: for e < half, u cos + x[e + half] inv sin;
// for half <= e < dims, u cos - x[e - half] inv sin (both at table column e % half); u past the rotated dims.
__device__ __forceinline__ float rotated(const Rope& rope, const void* x, int x_type, long long base, int e, float u,
                                         float inv) {
    if (e >= rope.dims) {
        return u;
    }
    bool first = e < rope.half;
    int column = first ? e : e - rope.half;
    float c = pg_load(rope.cos, rope.cos_type, rope.angles + column);
    float s = pg_load(rope.sin, rope.sin_type, rope.angles + column);
    if (first) {
        return u * c + pg_load(x, x_type, base + e + rope.half) * inv * s;
    }
    return u * c - pg_load(x, x_type, base + e - rope.half) * inv * s;
}

// The gradient of the rotation's input at value e, R^T g: for e < half, g[e] cos - g[e + half] sin; for
// half <= e < dims, g[e] cos + g[e - half] sin; g[e] past the rotated dims.
__device__ __forceinline__ float unrotated(const Rope& rope, const void* g, int g_type, long long base, int e,
                                           float ge) {
    if (e >= rope.dims) {
        return ge;
    }
    bool first = e < rope.half;
    int column = first ? e : e - rope.half;
    float c = pg_load(rope.cos, rope.cos_type, rope.angles + column);
    float s = pg_load(rope.sin, rope.sin_type, rope.angles + column);
    if (first) {
        return ge * c - pg_load(g, g_type, base + e + rope.half) * s;
    }
    return ge * c + pg_load(g, g_type, base + e - rope.half) * s;
}

// Per head: u = x * invRms, invRms = 1 / sqrt(mean(x^2) + eps) (saved at inv_rms[pair]); out = rotate(u) * gain[head]
// (gain null: 1). A warp per pair; the rotation's partner value is re-read from L1.
extern "C" __global__ void pg_qk_norm_rope(const void* x, int x_type, int heads, int head_dim, const void* cos,
                                           int cos_type, const void* sin, int sin_type, int rope_dims, int seq_len,
                                           const void* gain, int gain_type, float eps, void* out, int out_type,
                                           float* inv_rms, int rows) {
    long long pair = (long long)blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (pair >= (long long)rows * heads) {
        return;
    }
    int lane = threadIdx.x & 31;
    int row = (int)(pair / heads);
    int head = (int)(pair % heads);
    long long base = pair * head_dim;
    Rope rope{cos, cos_type, sin, sin_type, rope_dims, rope_dims / 2, (long long)(row % seq_len) * (rope_dims / 2)};
    float g = gain == nullptr ? 1.0f : pg_load(gain, gain_type, head);
    bool vectorized = head_dim % 2 == 0 && pg_aligned<2>(x, x_type) && pg_aligned<2>(out, out_type);
    pg_dispatch_vec<2>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        float squares = 0.0f;
        for (int e = lane * VEC; e < head_dim; e += 32 * VEC) {
            float v[VEC];
            pg_load_vec<VEC>(x, x_type, base + e, v);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                squares += v[k] * v[k];
            }
        }
        float inv = 1.0f / sqrtf(pg_warp_sum(squares) / head_dim + eps);
        if (lane == 0) {
            inv_rms[pair] = inv;
        }
        for (int e = lane * VEC; e < head_dim; e += 32 * VEC) {
            float v[VEC];
            pg_load_vec<VEC>(x, x_type, base + e, v);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                v[k] = rotated(rope, x, x_type, base, e + k, v[k] * inv, inv) * g;
            }
            pg_store_vec<VEC>(out, out_type, base + e, v);
        }
    });
}

// Per head, with n = x r (r = invRms), out = g R(n): dGain[head] += sum(dOut . R(n)); dn = g R^T(dOut);
// dX += r (dn - x r^2 mean(dn x)). Each block takes rows [first, end) and its warps the pairs of those rows in
// turn; when gain is not null, partials[block][head] receives the block's sum for dGain (per-warp sums in shared
// memory, added in warp order), for pg_sum_column_partials. Dynamic shared memory: PG_ROW_WARPS * heads floats
// with a gain, none without. Capped at 64 registers (4 blocks per SM, no spills) for the warps' serial latency.
extern "C" __global__ void __launch_bounds__(PG_ROW_WARPS * 32, 4) pg_qk_norm_rope_backward_partial(const void* x, int x_type, int heads, int head_dim,
                                                            const void* cos, int cos_type, const void* sin,
                                                            int sin_type, int rope_dims, int seq_len,
                                                            const void* gain, int gain_type, const float* inv_rms,
                                                            const void* d_out, int d_out_type, void* d_x,
                                                            int d_x_type, float* partials, int rows,
                                                            int rows_per_block) {
    extern __shared__ float warp_gain_sums[];
    int warp = threadIdx.x >> 5;
    int lane = threadIdx.x & 31;
    if (gain != nullptr) {
        for (int i = threadIdx.x; i < PG_ROW_WARPS * heads; i += blockDim.x) {
            warp_gain_sums[i] = 0.0f;
        }
    }
    __syncthreads();
    long long first = (long long)blockIdx.x * rows_per_block * heads;
    long long end = (long long)min(rows, (int)(blockIdx.x + 1) * rows_per_block) * heads;
    bool vectorized = head_dim % 2 == 0 && pg_aligned<2>(x, x_type) && pg_aligned<2>(d_out, d_out_type)
            && pg_aligned<2>(d_x, d_x_type);
    for (long long pair = first + warp; pair < end; pair += PG_ROW_WARPS) {
        int row = (int)(pair / heads);
        int head = (int)(pair % heads);
        long long base = pair * head_dim;
        Rope rope{cos, cos_type, sin, sin_type, rope_dims, rope_dims / 2, (long long)(row % seq_len) * (rope_dims / 2)};
        float g = gain == nullptr ? 1.0f : pg_load(gain, gain_type, head);
        float inv = inv_rms[pair];
        pg_dispatch_vec<2>(vectorized, [&](auto width) {
            constexpr int VEC = decltype(width)::value;
            float gain_sum = 0.0f;
            float dnx = 0.0f;
            for (int e = lane * VEC; e < head_dim; e += 32 * VEC) {
                float v[VEC];
                float go[VEC];
                pg_load_vec<VEC>(x, x_type, base + e, v);
                pg_load_vec<VEC>(d_out, d_out_type, base + e, go);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    gain_sum += go[k] * rotated(rope, x, x_type, base, e + k, v[k] * inv, inv);
                    dnx += g * unrotated(rope, d_out, d_out_type, base, e + k, go[k]) * v[k];
                }
            }
            gain_sum = pg_warp_sum(gain_sum);
            float projection = pg_warp_sum(dnx) * inv * inv / head_dim;
            for (int e = lane * VEC; e < head_dim; e += 32 * VEC) {
                float v[VEC];
                float go[VEC];
                pg_load_vec<VEC>(x, x_type, base + e, v);
                pg_load_vec<VEC>(d_out, d_out_type, base + e, go);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    float dn = g * unrotated(rope, d_out, d_out_type, base, e + k, go[k]);
                    go[k] = inv * (dn - v[k] * projection);
                }
                pg_accumulate_vec<VEC>(d_x, d_x_type, base + e, go);
            }
            if (lane == 0 && gain != nullptr) {
                warp_gain_sums[warp * heads + head] += gain_sum;
            }
        });
    }
    if (gain != nullptr) {
        __syncthreads();
        for (int h = threadIdx.x; h < heads; h += blockDim.x) {
            float total = 0.0f;
            for (int w = 0; w < PG_ROW_WARPS; w++) {
                total += warp_gain_sums[w * heads + h];
            }
            partials[(long long)blockIdx.x * heads + h] = total;
        }
    }
}

// XSA: for each query head h of kv head kv, out = y - (y . u) u with u = v / max(||v||, 1e-12). A warp per
// (row, kv head) pair, looping over the group's query heads. out may be y: each value is read (for the dot
// product, then for the output) before the same thread writes it.
extern "C" __global__ void pg_exclusive_self_attention(const void* y, int y_type, const void* v, int v_type,
                                                       void* out, int out_type, int rows, int heads, int kv_heads,
                                                       int head_dim) {
    long long pair = (long long)blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (pair >= (long long)rows * kv_heads) {
        return;
    }
    int lane = threadIdx.x & 31;
    int row = (int)(pair / kv_heads);
    int kv = (int)(pair % kv_heads);
    int group = heads / kv_heads;
    long long v_base = pair * head_dim;
    bool vectorized = head_dim % 2 == 0 && pg_aligned<2>(y, y_type) && pg_aligned<2>(v, v_type)
            && pg_aligned<2>(out, out_type);
    pg_dispatch_vec<2>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        float squares = 0.0f;
        for (int e = lane * VEC; e < head_dim; e += 32 * VEC) {
            float u[VEC];
            pg_load_vec<VEC>(v, v_type, v_base + e, u);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                squares += u[k] * u[k];
            }
        }
        float divisor = fmaxf(sqrtf(pg_warp_sum(squares)), NORMALIZE_EPS);
        for (int h = kv * group; h < (kv + 1) * group; h++) {
            long long base = ((long long)row * heads + h) * head_dim;
            float dot = 0.0f;
            for (int e = lane * VEC; e < head_dim; e += 32 * VEC) {
                float u[VEC];
                float a[VEC];
                pg_load_vec<VEC>(v, v_type, v_base + e, u);
                pg_load_vec<VEC>(y, y_type, base + e, a);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    dot += a[k] * (u[k] / divisor);
                }
            }
            dot = pg_warp_sum(dot);
            for (int e = lane * VEC; e < head_dim; e += 32 * VEC) {
                float u[VEC];
                float a[VEC];
                pg_load_vec<VEC>(v, v_type, v_base + e, u);
                pg_load_vec<VEC>(y, y_type, base + e, a);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    a[k] = a[k] - dot * (u[k] / divisor);
                }
                pg_store_vec<VEC>(out, out_type, base + e, a);
            }
        }
    });
}

// XSA backward, a warp per (row, kv head) pair: per query head of the group, dY += g - (g . u) u and
// du -= (g . u) y + (y . u) g; then dV += (du - u (u . du)) / ||v||, or du / eps where the norm is clamped. du
// lives in shared memory, PG_ROW_WARPS * headDim floats of it (dynamic), each value touched only by its own lane.
// Capped at 64 registers (4 blocks per SM, no spills) for the warps' serial latency.
extern "C" __global__ void __launch_bounds__(PG_ROW_WARPS * 32, 4) pg_exclusive_self_attention_backward(const void* y, int y_type, const void* v, int v_type,
                                                                const void* d_out, int d_out_type, void* d_y,
                                                                int d_y_type, void* d_v, int d_v_type, int rows,
                                                                int heads, int kv_heads, int head_dim) {
    extern __shared__ float unit_grads[];
    long long pair = (long long)blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (pair >= (long long)rows * kv_heads) {
        return;
    }
    int lane = threadIdx.x & 31;
    int row = (int)(pair / kv_heads);
    int kv = (int)(pair % kv_heads);
    int group = heads / kv_heads;
    long long v_base = pair * head_dim;
    float* unit_grad = unit_grads + (threadIdx.x >> 5) * head_dim;
    bool vectorized = head_dim % 2 == 0 && pg_aligned<2>(y, y_type) && pg_aligned<2>(v, v_type)
            && pg_aligned<2>(d_out, d_out_type) && pg_aligned<2>(d_y, d_y_type) && pg_aligned<2>(d_v, d_v_type);
    pg_dispatch_vec<2>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        float squares = 0.0f;
        for (int e = lane * VEC; e < head_dim; e += 32 * VEC) {
            float u[VEC];
            pg_load_vec<VEC>(v, v_type, v_base + e, u);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                squares += u[k] * u[k];
                unit_grad[e + k] = 0.0f;
            }
        }
        float divisor = fmaxf(sqrtf(pg_warp_sum(squares)), NORMALIZE_EPS);
        for (int h = kv * group; h < (kv + 1) * group; h++) {
            long long base = ((long long)row * heads + h) * head_dim;
            float yu = 0.0f;
            float gu = 0.0f;
            for (int e = lane * VEC; e < head_dim; e += 32 * VEC) {
                float u[VEC];
                float a[VEC];
                float g[VEC];
                pg_load_vec<VEC>(v, v_type, v_base + e, u);
                pg_load_vec<VEC>(y, y_type, base + e, a);
                pg_load_vec<VEC>(d_out, d_out_type, base + e, g);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    yu += a[k] * (u[k] / divisor);
                    gu += g[k] * (u[k] / divisor);
                }
            }
            yu = pg_warp_sum(yu);
            gu = pg_warp_sum(gu);
            for (int e = lane * VEC; e < head_dim; e += 32 * VEC) {
                float u[VEC];
                float a[VEC];
                float g[VEC];
                pg_load_vec<VEC>(v, v_type, v_base + e, u);
                pg_load_vec<VEC>(y, y_type, base + e, a);
                pg_load_vec<VEC>(d_out, d_out_type, base + e, g);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    unit_grad[e + k] = unit_grad[e + k] - (gu * a[k] + yu * g[k]);
                    g[k] = g[k] - gu * (u[k] / divisor);
                }
                pg_accumulate_vec<VEC>(d_y, d_y_type, base + e, g);
            }
        }
        float radial = 0.0f;
        for (int e = lane * VEC; e < head_dim; e += 32 * VEC) {
            float u[VEC];
            pg_load_vec<VEC>(v, v_type, v_base + e, u);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                radial += unit_grad[e + k] * (u[k] / divisor);
            }
        }
        radial = divisor > NORMALIZE_EPS ? pg_warp_sum(radial) : 0.0f;
        for (int e = lane * VEC; e < head_dim; e += 32 * VEC) {
            float u[VEC];
            pg_load_vec<VEC>(v, v_type, v_base + e, u);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                u[k] = (unit_grad[e + k] - (u[k] / divisor) * radial) / divisor;
            }
            pg_accumulate_vec<VEC>(d_v, d_v_type, v_base + e, u);
        }
    });
}
