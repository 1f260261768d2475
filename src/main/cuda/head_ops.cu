// LayerOps' per-head kernels (io.pgolf.gpu.cuda.CudaLayerOps): q/k rms_norm + rotary embedding + gain before
// attention, XSA after it. A 256-thread block stages a span of consecutive rows in shared memory and gives each
// (row, head) pair of it to one warp. Pair p is row p / heads, head p % heads, so its values start at p * headDim
// in the [rows, heads * headDim] matrix. Backward ops add into their gradient outputs.
#include "pgolf_vec.cuh"

// The lower bound of the norm that F.normalize divides by (XSA's value directions).
#define NORMALIZE_EPS 1e-12f

// The sum of squares of a head's n values in shared memory, a warp's lanes taking every 32nd, summed across the
// warp: the head's rms (q/k norm) and its value vector's norm (XSA).
__device__ __forceinline__ float warp_sum_squares(const float* u, int n, int lane) {
    float squares = 0.0f;
    for (int e = lane; e < n; e += 32) {
        squares += u[e] * u[e];
    }
    return pg_warp_sum(squares);
}

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

// Value e of a head h (in shared memory) as rotated, given the normalized u = h[e] * inv: for e < half,
// u cos + h[e + half] inv sin; for half <= e < dims, u cos - h[e - half] inv sin (both at table column e % half);
// u past the rotated dims.
__device__ __forceinline__ float rotated(const Rope& rope, const float* h, int e, float u, float inv) {
    if (e >= rope.dims) {
        return u;
    }
    bool first = e < rope.half;
    int column = first ? e : e - rope.half;
    float c = pg_load(rope.cos, rope.cos_type, rope.angles + column);
    float s = pg_load(rope.sin, rope.sin_type, rope.angles + column);
    if (first) {
        return u * c + h[e + rope.half] * inv * s;
    }
    return u * c - h[e - rope.half] * inv * s;
}

// The gradient of the rotation's input at value e of a head's gradient g (in shared memory), R^T g: for e < half,
// g[e] cos - g[e + half] sin; for half <= e < dims, g[e] cos + g[e - half] sin; g[e] past the rotated dims.
__device__ __forceinline__ float unrotated(const Rope& rope, const float* g, int e) {
    if (e >= rope.dims) {
        return g[e];
    }
    bool first = e < rope.half;
    int column = first ? e : e - rope.half;
    float c = pg_load(rope.cos, rope.cos_type, rope.angles + column);
    float s = pg_load(rope.sin, rope.sin_type, rope.angles + column);
    if (first) {
        return g[e] * c - g[e + rope.half] * s;
    }
    return g[e] * c + g[e - rope.half] * s;
}

// ---- staging through shared memory ----
// The head kernels are memory-bound and their values are contiguous per block: a block copies its span of each
// operand into shared memory with every thread's loads in flight at once, computes there (a warp per head, any
// head width, partners of the rotation at hand), and writes (or adds) its results back the same way.

// tile[0, count) = src[start, start + count) as floats: the whole block, four values a load where aligned (and a
// float4 in shared memory: tiles start at the 16-byte aligned dynamic shared memory, at multiples of 4 floats).
__device__ __forceinline__ void load_tile(const void* src, int type, long long start, int count, float* tile) {
    if (start % 4 == 0 && count % 4 == 0 && pg_aligned<4>(src, type)) {
#pragma unroll 4
        for (int i = threadIdx.x * 4; i < count; i += blockDim.x * 4) {
            float v[4];
            pg_load_vec<4>(src, type, start + i, v);
            *reinterpret_cast<float4*>(tile + i) = make_float4(v[0], v[1], v[2], v[3]);
        }
    } else {
        for (int i = threadIdx.x; i < count; i += blockDim.x) {
            tile[i] = pg_load(src, type, start + i);
        }
    }
}

// dst[start, start + count) = tile[0, count), rounded to dst's type.
__device__ __forceinline__ void store_tile(void* dst, int type, long long start, int count, const float* tile) {
    if (start % 4 == 0 && count % 4 == 0 && pg_aligned<4>(dst, type)) {
#pragma unroll 4
        for (int i = threadIdx.x * 4; i < count; i += blockDim.x * 4) {
            float4 v = *reinterpret_cast<const float4*>(tile + i);
            float values[4] = {v.x, v.y, v.z, v.w};
            pg_store_vec<4>(dst, type, start + i, values);
        }
    } else {
        for (int i = threadIdx.x; i < count; i += blockDim.x) {
            pg_store(dst, type, start + i, tile[i]);
        }
    }
}

// dst[start, start + count) += tile[0, count) in dst's type.
__device__ __forceinline__ void accumulate_tile(void* dst, int type, long long start, int count, const float* tile) {
    if (start % 4 == 0 && count % 4 == 0 && pg_aligned<4>(dst, type)) {
#pragma unroll 4
        for (int i = threadIdx.x * 4; i < count; i += blockDim.x * 4) {
            float4 v = *reinterpret_cast<const float4*>(tile + i);
            float values[4] = {v.x, v.y, v.z, v.w};
            pg_accumulate_vec<4>(dst, type, start + i, values);
        }
    } else {
        for (int i = threadIdx.x; i < count; i += blockDim.x) {
            pg_accumulate(dst, type, start + i, tile[i]);
        }
    }
}

// The kernels' register caps (__launch_bounds__) keep 8 blocks per SM resident for the forward kernels and 6 for the
// backward ones without spills: occupancy is what keeps enough loads in flight.

// (row, head) pairs per shared-memory tile of the q/k kernels; io.pgolf.gpu.cuda.CudaLayerOps sizes the dynamic
// shared memory by it.
#define QK_TILE_PAIRS 32

// Per head: u = x * invRms, invRms = 1 / sqrt(mean(x^2) + eps) (saved at inv_rms[pair]); out = rotate(u) * gain[head]
// (gain null: 1). A block per QK_TILE_PAIRS consecutive pairs, staged in shared memory (2 tiles of
// QK_TILE_PAIRS * headDim floats, dynamic); a warp per pair within it.
extern "C" __global__ void __launch_bounds__(PG_ROW_WARPS * 32, 8) pg_qk_norm_rope(const void* x, int x_type, int heads, int head_dim, const void* cos,
                                           int cos_type, const void* sin, int sin_type, int rope_dims, int seq_len,
                                           const void* gain, int gain_type, float eps, void* out, int out_type,
                                           float* inv_rms, int rows) {
    extern __shared__ float qk_tiles[];
    float* x_tile = qk_tiles;
    float* out_tile = qk_tiles + QK_TILE_PAIRS * head_dim;
    int warp = threadIdx.x >> 5;
    int lane = threadIdx.x & 31;
    long long first = (long long)blockIdx.x * QK_TILE_PAIRS;
    int count = (int)min((long long)QK_TILE_PAIRS, (long long)rows * heads - first);
    long long start = first * head_dim;
    load_tile(x, x_type, start, count * head_dim, x_tile);
    __syncthreads();
    for (int p = warp; p < count; p += PG_ROW_WARPS) {
        long long pair = first + p;
        int row = (int)(pair / heads);
        int head = (int)(pair - (long long)row * heads);
        const float* h = x_tile + p * head_dim;
        float inv = 1.0f / sqrtf(warp_sum_squares(h, head_dim, lane) / head_dim + eps);
        if (lane == 0) {
            inv_rms[pair] = inv;
        }
        Rope rope{cos, cos_type, sin, sin_type, rope_dims, rope_dims / 2, (long long)(row % seq_len) * (rope_dims / 2)};
        float g = gain == nullptr ? 1.0f : pg_load(gain, gain_type, head);
        for (int e = lane; e < head_dim; e += 32) {
            out_tile[p * head_dim + e] = rotated(rope, h, e, h[e] * inv, inv) * g;
        }
    }
    __syncthreads();
    store_tile(out, out_type, start, count * head_dim, out_tile);
}

// Per head, with n = x r (r = invRms), out = g R(n): dGain[head] += sum(dOut . R(n)); dn = g R^T(dOut);
// dX += r (dn - x r^2 mean(dn x)). Each block takes rows [first, end), QK_TILE_PAIRS pairs at a time staged in
// shared memory (x, dOut and the dX update: 3 tiles of QK_TILE_PAIRS * headDim floats, then PG_ROW_WARPS * heads
// floats of per-warp gain sums; dynamic), a warp per pair within a tile; when gain is not null, partials[block][head]
// receives the block's sum for dGain (the warps' sums added in warp order), for pg_sum_column_partials.
extern "C" __global__ void __launch_bounds__(PG_ROW_WARPS * 32, 6) pg_qk_norm_rope_backward_partial(const void* x, int x_type, int heads, int head_dim,
                                                            const void* cos, int cos_type, const void* sin,
                                                            int sin_type, int rope_dims, int seq_len,
                                                            const void* gain, int gain_type, const float* inv_rms,
                                                            const void* d_out, int d_out_type, void* d_x,
                                                            int d_x_type, float* partials, int rows,
                                                            int rows_per_block) {
    extern __shared__ float qk_tiles[];
    int tile_values = QK_TILE_PAIRS * head_dim;
    float* x_tile = qk_tiles;
    float* g_tile = qk_tiles + tile_values;
    float* dx_tile = qk_tiles + 2 * tile_values;
    float* warp_gain_sums = qk_tiles + 3 * tile_values;
    int warp = threadIdx.x >> 5;
    int lane = threadIdx.x & 31;
    for (int i = threadIdx.x; i < PG_ROW_WARPS * heads; i += blockDim.x) {
        warp_gain_sums[i] = 0.0f;
    }
    long long first = (long long)blockIdx.x * rows_per_block * heads;
    long long end = (long long)min(rows, (int)(blockIdx.x + 1) * rows_per_block) * heads;
    for (long long tile_first = first; tile_first < end; tile_first += QK_TILE_PAIRS) {
        int count = (int)min((long long)QK_TILE_PAIRS, end - tile_first);
        long long start = tile_first * head_dim;
        // The barrier also keeps the previous tile's write-back from reading values this tile's loads replace.
        __syncthreads();
        load_tile(x, x_type, start, count * head_dim, x_tile);
        load_tile(d_out, d_out_type, start, count * head_dim, g_tile);
        __syncthreads();
        for (int p = warp; p < count; p += PG_ROW_WARPS) {
            long long pair = tile_first + p;
            int row = (int)(pair / heads);
            int head = (int)(pair - (long long)row * heads);
            const float* h = x_tile + p * head_dim;
            const float* go = g_tile + p * head_dim;
            Rope rope{cos, cos_type, sin, sin_type, rope_dims, rope_dims / 2,
                      (long long)(row % seq_len) * (rope_dims / 2)};
            float g = gain == nullptr ? 1.0f : pg_load(gain, gain_type, head);
            float inv = inv_rms[pair];
            float gain_sum = 0.0f;
            float dnx = 0.0f;
            for (int e = lane; e < head_dim; e += 32) {
                gain_sum += go[e] * rotated(rope, h, e, h[e] * inv, inv);
                dnx += g * unrotated(rope, go, e) * h[e];
            }
            gain_sum = pg_warp_sum(gain_sum);
            float projection = pg_warp_sum(dnx) * inv * inv / head_dim;
            for (int e = lane; e < head_dim; e += 32) {
                float dn = g * unrotated(rope, go, e);
                dx_tile[p * head_dim + e] = inv * (dn - h[e] * projection);
            }
            if (lane == 0 && gain != nullptr) {
                warp_gain_sums[warp * heads + head] += gain_sum;
            }
        }
        __syncthreads();
        accumulate_tile(d_x, d_x_type, start, count * head_dim, dx_tile);
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

// Rows per shared-memory tile of the XSA kernels; io.pgolf.gpu.cuda.CudaLayerOps sizes the dynamic shared memory
// by it.
#define XSA_TILE_ROWS 4

// XSA: for each query head h of kv head kv, out = y - (y . u) u with u = v / max(||v||, 1e-12). A block per
// XSA_TILE_ROWS rows, y and v staged in shared memory (dynamic: XSA_TILE_ROWS * (heads + kvHeads) * headDim
// floats), a warp per (row, kv head) pair looping over the group's query heads; out may be y.
extern "C" __global__ void __launch_bounds__(PG_ROW_WARPS * 32, 8) pg_exclusive_self_attention(const void* y, int y_type, const void* v, int v_type,
                                                       void* out, int out_type, int rows, int heads, int kv_heads,
                                                       int head_dim) {
    extern __shared__ float xsa_tiles[];
    int y_width = heads * head_dim;
    int v_width = kv_heads * head_dim;
    float* y_tile = xsa_tiles;
    float* v_tile = xsa_tiles + XSA_TILE_ROWS * y_width;
    int warp = threadIdx.x >> 5;
    int lane = threadIdx.x & 31;
    int first = blockIdx.x * XSA_TILE_ROWS;
    int count = min(XSA_TILE_ROWS, rows - first);
    int group = heads / kv_heads;
    load_tile(y, y_type, (long long)first * y_width, count * y_width, y_tile);
    load_tile(v, v_type, (long long)first * v_width, count * v_width, v_tile);
    __syncthreads();
    for (int p = warp; p < count * kv_heads; p += PG_ROW_WARPS) {
        int r = p / kv_heads;
        int kv = p - r * kv_heads;
        const float* u = v_tile + r * v_width + kv * head_dim;
        float divisor = fmaxf(sqrtf(warp_sum_squares(u, head_dim, lane)), NORMALIZE_EPS);
        for (int h = kv * group; h < (kv + 1) * group; h++) {
            float* a = y_tile + r * y_width + h * head_dim;
            float dot = 0.0f;
            for (int e = lane; e < head_dim; e += 32) {
                dot += a[e] * (u[e] / divisor);
            }
            // Each lane rewrites only the values it read, after the warp's sum has gathered them all.
            dot = pg_warp_sum(dot);
            for (int e = lane; e < head_dim; e += 32) {
                a[e] = a[e] - dot * (u[e] / divisor);
            }
        }
    }
    __syncthreads();
    store_tile(out, out_type, (long long)first * y_width, count * y_width, y_tile);
}

// XSA backward, a block per XSA_TILE_ROWS rows with y, v and dOut staged in shared memory and a warp per (row,
// kv head) pair: per query head of the group, dY += g - (g . u) u and du -= (g . u) y + (y . u) g; then
// dV += (du - u (u . du)) / ||v||, or du / eps where the norm is clamped. The dY update replaces dOut in its tile
// and du collects in a fourth tile (dynamic: XSA_TILE_ROWS * 2 * (heads + kvHeads) * headDim floats), each value
// touched by its own lane only.
extern "C" __global__ void __launch_bounds__(PG_ROW_WARPS * 32, 6) pg_exclusive_self_attention_backward(const void* y, int y_type, const void* v, int v_type,
                                                                const void* d_out, int d_out_type, void* d_y,
                                                                int d_y_type, void* d_v, int d_v_type, int rows,
                                                                int heads, int kv_heads, int head_dim) {
    extern __shared__ float xsa_tiles[];
    int y_width = heads * head_dim;
    int v_width = kv_heads * head_dim;
    float* y_tile = xsa_tiles;
    float* g_tile = y_tile + XSA_TILE_ROWS * y_width;
    float* v_tile = g_tile + XSA_TILE_ROWS * y_width;
    float* dv_tile = v_tile + XSA_TILE_ROWS * v_width;
    int warp = threadIdx.x >> 5;
    int lane = threadIdx.x & 31;
    int first = blockIdx.x * XSA_TILE_ROWS;
    int count = min(XSA_TILE_ROWS, rows - first);
    int group = heads / kv_heads;
    load_tile(y, y_type, (long long)first * y_width, count * y_width, y_tile);
    load_tile(d_out, d_out_type, (long long)first * y_width, count * y_width, g_tile);
    load_tile(v, v_type, (long long)first * v_width, count * v_width, v_tile);
    __syncthreads();
    for (int p = warp; p < count * kv_heads; p += PG_ROW_WARPS) {
        int r = p / kv_heads;
        int kv = p - r * kv_heads;
        const float* u = v_tile + r * v_width + kv * head_dim;
        float* unit_grad = dv_tile + r * v_width + kv * head_dim;
        for (int e = lane; e < head_dim; e += 32) {
            unit_grad[e] = 0.0f;
        }
        float divisor = fmaxf(sqrtf(warp_sum_squares(u, head_dim, lane)), NORMALIZE_EPS);
        for (int h = kv * group; h < (kv + 1) * group; h++) {
            const float* a = y_tile + r * y_width + h * head_dim;
            float* g = g_tile + r * y_width + h * head_dim;
            float yu = 0.0f;
            float gu = 0.0f;
            for (int e = lane; e < head_dim; e += 32) {
                yu += a[e] * (u[e] / divisor);
                gu += g[e] * (u[e] / divisor);
            }
            yu = pg_warp_sum(yu);
            gu = pg_warp_sum(gu);
            for (int e = lane; e < head_dim; e += 32) {
                unit_grad[e] = unit_grad[e] - (gu * a[e] + yu * g[e]);
                g[e] = g[e] - gu * (u[e] / divisor);
            }
        }
        float radial = 0.0f;
        for (int e = lane; e < head_dim; e += 32) {
            radial += unit_grad[e] * (u[e] / divisor);
        }
        radial = divisor > NORMALIZE_EPS ? pg_warp_sum(radial) : 0.0f;
        for (int e = lane; e < head_dim; e += 32) {
            unit_grad[e] = (unit_grad[e] - (u[e] / divisor) * radial) / divisor;
        }
    }
    __syncthreads();
    accumulate_tile(d_y, d_y_type, (long long)first * y_width, count * y_width, g_tile);
    accumulate_tile(d_v, d_v_type, (long long)first * v_width, count * v_width, dv_tile);
}
