// LayerOps' row-wise and elementwise kernels (io.pgolf.gpu.cuda.CudaLayerOps): embedding, rms_norm, the residual
// mix / scale / skip gate and leaky_relu^2, forward and backward. Row ops give each row to one warp (PG_ROW_WARPS
// rows per 256-thread block), vectorized four values at a time where widths and addresses allow. Backward ops add
// into their gradient outputs. A parameter gradient that sums over rows (dMix, dScale, dWeight/dGate of the skip
// gate) is deterministic: a "partial" kernel has each block sum a fixed range of rows into its own row of
// `partials` [blocks, width] (columns split over the block's threads, so no two threads touch one column), and
// pg_sum_column_partials adds those rows in block order.
#include "pgolf_vec.cuh"

// ---- embedding ----

// out[n] = weight[ids[n]]: a warp per row.
extern "C" __global__ void pg_embedding(const int* ids, const void* weight, int weight_type, void* out, int out_type,
                                        int rows, int vocab, int d) {
    int row = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    int lane = threadIdx.x & 31;
    int id = ids[row];
    pg_require_index(id, vocab, row, "token id");
    bool vectorized = d % 4 == 0 && pg_aligned<4>(weight, weight_type) && pg_aligned<4>(out, out_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        for (int j = lane * VEC; j < d; j += 32 * VEC) {
            float v[VEC];
            pg_load_vec<VEC>(weight, weight_type, (long long)id * d + j, v);
            pg_store_vec<VEC>(out, out_type, (long long)row * d + j, v);
        }
    });
}

// dWeight[ids[n]] += dOut[n]: a warp per token row, float atomics into the F32 gradient. Tokens that repeat add in
// an unspecified order, so the low bits of dWeight vary from run to run, as with torch's embedding backward on a
// GPU; a deterministic version would need a sort of the ids and segmented sums split for frequent tokens.
extern "C" __global__ void pg_embedding_backward(const int* ids, const void* d_out, int d_out_type, float* d_weight,
                                                 int rows, int vocab, int d) {
    int row = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    int lane = threadIdx.x & 31;
    int id = ids[row];
    pg_require_index(id, vocab, row, "token id");
    bool vectorized = d % 4 == 0 && pg_aligned<4>(d_out, d_out_type) && pg_aligned<4>(d_weight, PG_F32);
    float* dst = d_weight + (long long)id * d;
    if (vectorized) {
        for (int j = lane * 4; j < d; j += 32 * 4) {
            float g[4];
            pg_load_vec<4>(d_out, d_out_type, (long long)row * d + j, g);
            atomicAdd(reinterpret_cast<float4*>(dst + j), make_float4(g[0], g[1], g[2], g[3]));
        }
    } else {
        for (int j = lane; j < d; j += 32) {
            atomicAdd(dst + j, pg_load(d_out, d_out_type, (long long)row * d + j));
        }
    }
}

// ---- rms_norm ----

// out = x * invRms * scale, invRms = 1 / sqrt(mean(x^2) + eps): a warp per row; the second sweep re-reads the row
// from L1 rather than holding it in registers, so any width works.
extern "C" __global__ void pg_rms_norm(const void* x, int x_type, float scale, float eps, void* out, int out_type,
                                       float* inv_rms, int rows, int d) {
    int row = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    int lane = threadIdx.x & 31;
    long long base = (long long)row * d;
    bool vectorized = d % 4 == 0 && pg_aligned<4>(x, x_type) && pg_aligned<4>(out, out_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        float inv = 1.0f / sqrtf(pg_warp_row_sum_squares<VEC>(x, x_type, base, d, lane) / d + eps);
        if (lane == 0) {
            inv_rms[row] = inv;
        }
        for (int j = lane * VEC; j < d; j += 32 * VEC) {
            float v[VEC];
            pg_load_vec<VEC>(x, x_type, base + j, v);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                v[k] = v[k] * inv * scale;
            }
            pg_store_vec<VEC>(out, out_type, base + j, v);
        }
    });
}

// dX += scale * r * (g - x * r^2 * mean(g x)) with r = invRms: a warp per row.
extern "C" __global__ void pg_rms_norm_backward(const void* x, int x_type, const float* inv_rms, float scale,
                                                const void* d_out, int d_out_type, void* d_x, int d_x_type,
                                                int rows, int d) {
    int row = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    int lane = threadIdx.x & 31;
    long long base = (long long)row * d;
    bool vectorized = d % 4 == 0 && pg_aligned<4>(x, x_type) && pg_aligned<4>(d_out, d_out_type)
            && pg_aligned<4>(d_x, d_x_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        float gx = 0.0f;
        for (int j = lane * VEC; j < d; j += 32 * VEC) {
            float v[VEC];
            float g[VEC];
            pg_load_vec<VEC>(x, x_type, base + j, v);
            pg_load_vec<VEC>(d_out, d_out_type, base + j, g);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                gx += g[k] * v[k];
            }
        }
        float inv = inv_rms[row];
        float projection = pg_warp_sum(gx) * inv * inv / d;
        float factor = scale * inv;
        for (int j = lane * VEC; j < d; j += 32 * VEC) {
            float v[VEC];
            float g[VEC];
            pg_load_vec<VEC>(x, x_type, base + j, v);
            pg_load_vec<VEC>(d_out, d_out_type, base + j, g);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                g[k] = factor * (g[k] - v[k] * projection);
            }
            pg_accumulate_vec<VEC>(d_x, d_x_type, base + j, g);
        }
    });
}

// ---- residual mix, scaled residual, skip gate ----

// out = mix[0] * x + mix[1] * x0: a warp per row.
extern "C" __global__ void pg_residual_mix(const void* x, int x_type, const void* x0, int x0_type, const void* mix,
                                           int mix_type, void* out, int out_type, int rows, int d) {
    int row = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    int lane = threadIdx.x & 31;
    long long base = (long long)row * d;
    bool vectorized = d % 4 == 0 && pg_aligned<4>(x, x_type) && pg_aligned<4>(x0, x0_type)
            && pg_aligned<4>(mix, mix_type) && pg_aligned<4>(out, out_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        for (int j = lane * VEC; j < d; j += 32 * VEC) {
            float a[VEC];
            float b[VEC];
            float m0[VEC];
            float m1[VEC];
            pg_load_vec<VEC>(x, x_type, base + j, a);
            pg_load_vec<VEC>(x0, x0_type, base + j, b);
            pg_load_vec<VEC>(mix, mix_type, j, m0);
            pg_load_vec<VEC>(mix, mix_type, d + j, m1);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                a[k] = m0[k] * a[k] + m1[k] * b[k];
            }
            pg_store_vec<VEC>(out, out_type, base + j, a);
        }
    });
}

// The rows [first, end) of a partial kernel's block: `rows_per_block` each, the last block's fewer.
__device__ __forceinline__ int2 block_rows(int rows, int rows_per_block) {
    int first = blockIdx.x * rows_per_block;
    return make_int2(first, min(rows, first + rows_per_block));
}

// dX += mix[0] g; dX0 += mix[1] g; partials[block] = (sum x g, sum x0 g) over the block's rows, [2, d] each.
// dX and dX0 may be one tensor: each is its own read-modify-write by the same thread, in that order.
extern "C" __global__ void pg_residual_mix_backward_partial(const void* x, int x_type, const void* x0, int x0_type,
                                                            const void* mix, int mix_type, const void* d_out,
                                                            int d_out_type, void* d_x, int d_x_type, void* d_x0,
                                                            int d_x0_type, float* partials, int rows, int d,
                                                            int rows_per_block) {
    int2 range = block_rows(rows, rows_per_block);
    float* partial = partials + (long long)blockIdx.x * 2 * d;
    bool vectorized = d % 4 == 0 && pg_aligned<4>(x, x_type) && pg_aligned<4>(x0, x0_type)
            && pg_aligned<4>(mix, mix_type) && pg_aligned<4>(d_out, d_out_type) && pg_aligned<4>(d_x, d_x_type)
            && pg_aligned<4>(d_x0, d_x0_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        for (int c = threadIdx.x * VEC; c < d; c += blockDim.x * VEC) {
            float m0[VEC];
            float m1[VEC];
            pg_load_vec<VEC>(mix, mix_type, c, m0);
            pg_load_vec<VEC>(mix, mix_type, d + c, m1);
            float sum_x[VEC] = {};
            float sum_x0[VEC] = {};
            for (int r = range.x; r < range.y; r++) {
                long long i = (long long)r * d + c;
                float g[VEC];
                float a[VEC];
                float b[VEC];
                float update[VEC];
                pg_load_vec<VEC>(d_out, d_out_type, i, g);
                pg_load_vec<VEC>(x, x_type, i, a);
                pg_load_vec<VEC>(x0, x0_type, i, b);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    sum_x[k] += a[k] * g[k];
                    sum_x0[k] += b[k] * g[k];
                    update[k] = m0[k] * g[k];
                }
                pg_accumulate_vec<VEC>(d_x, d_x_type, i, update);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    update[k] = m1[k] * g[k];
                }
                pg_accumulate_vec<VEC>(d_x0, d_x0_type, i, update);
            }
            pg_store_vec<VEC>(partial, PG_F32, c, sum_x);
            pg_store_vec<VEC>(partial, PG_F32, d + c, sum_x0);
        }
    });
}

// out = x + scale * y: a warp per row. out may be x: each value is read before the same thread writes it.
extern "C" __global__ void pg_scaled_residual(const void* x, int x_type, const void* scale, int scale_type,
                                              const void* y, int y_type, void* out, int out_type, int rows, int d) {
    int row = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    int lane = threadIdx.x & 31;
    long long base = (long long)row * d;
    bool vectorized = d % 4 == 0 && pg_aligned<4>(x, x_type) && pg_aligned<4>(scale, scale_type)
            && pg_aligned<4>(y, y_type) && pg_aligned<4>(out, out_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        for (int j = lane * VEC; j < d; j += 32 * VEC) {
            float a[VEC];
            float s[VEC];
            float b[VEC];
            pg_load_vec<VEC>(x, x_type, base + j, a);
            pg_load_vec<VEC>(scale, scale_type, j, s);
            pg_load_vec<VEC>(y, y_type, base + j, b);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                a[k] = a[k] + s[k] * b[k];
            }
            pg_store_vec<VEC>(out, out_type, base + j, a);
        }
    });
}

// dX += g; dY += scale g; partials[block] = sum y g over the block's rows, [d].
extern "C" __global__ void pg_scaled_residual_backward_partial(const void* scale, int scale_type, const void* y,
                                                               int y_type, const void* d_out, int d_out_type,
                                                               void* d_x, int d_x_type, void* d_y, int d_y_type,
                                                               float* partials, int rows, int d, int rows_per_block) {
    int2 range = block_rows(rows, rows_per_block);
    float* partial = partials + (long long)blockIdx.x * d;
    bool vectorized = d % 4 == 0 && pg_aligned<4>(scale, scale_type) && pg_aligned<4>(y, y_type)
            && pg_aligned<4>(d_out, d_out_type) && pg_aligned<4>(d_x, d_x_type) && pg_aligned<4>(d_y, d_y_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        for (int c = threadIdx.x * VEC; c < d; c += blockDim.x * VEC) {
            float s[VEC];
            pg_load_vec<VEC>(scale, scale_type, c, s);
            float sum_y[VEC] = {};
            for (int r = range.x; r < range.y; r++) {
                long long i = (long long)r * d + c;
                float g[VEC];
                float b[VEC];
                pg_load_vec<VEC>(d_out, d_out_type, i, g);
                pg_load_vec<VEC>(y, y_type, i, b);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    sum_y[k] += b[k] * g[k];
                }
                pg_accumulate_vec<VEC>(d_x, d_x_type, i, g);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    g[k] = s[k] * g[k];
                }
                pg_accumulate_vec<VEC>(d_y, d_y_type, i, g);
            }
            pg_store_vec<VEC>(partial, PG_F32, c, sum_y);
        }
    });
}

__device__ __forceinline__ float sigmoid(float v) {
    return 1.0f / (1.0f + expf(-v));
}

// s = weight * skip; out = s + sigmoid(gate) * (x - s): a warp per row.
extern "C" __global__ void pg_skip_gate(const void* x, int x_type, const void* skip, int skip_type,
                                        const void* weight, int weight_type, const void* gate, int gate_type,
                                        void* out, int out_type, int rows, int d) {
    int row = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    int lane = threadIdx.x & 31;
    long long base = (long long)row * d;
    bool vectorized = d % 4 == 0 && pg_aligned<4>(x, x_type) && pg_aligned<4>(skip, skip_type)
            && pg_aligned<4>(weight, weight_type) && pg_aligned<4>(gate, gate_type) && pg_aligned<4>(out, out_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        for (int j = lane * VEC; j < d; j += 32 * VEC) {
            float a[VEC];
            float sk[VEC];
            float w[VEC];
            float gt[VEC];
            pg_load_vec<VEC>(x, x_type, base + j, a);
            pg_load_vec<VEC>(skip, skip_type, base + j, sk);
            pg_load_vec<VEC>(weight, weight_type, j, w);
            pg_load_vec<VEC>(gate, gate_type, j, gt);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                float s = w[k] * sk[k];
                a[k] = s + sigmoid(gt[k]) * (a[k] - s);
            }
            pg_store_vec<VEC>(out, out_type, base + j, a);
        }
    });
}

// With a = sigmoid(gate): dX += a g; dSkip += (1 - a) w g; partials[block] = (sum skip g, sum (x - w skip) g)
// over the block's rows, [2, d]; pg_skip_gate_finish applies the column factors (1 - a) and a (1 - a) once.
extern "C" __global__ void pg_skip_gate_backward_partial(const void* x, int x_type, const void* skip, int skip_type,
                                                         const void* weight, int weight_type, const void* gate,
                                                         int gate_type, const void* d_out, int d_out_type, void* d_x,
                                                         int d_x_type, void* d_skip, int d_skip_type,
                                                         float* partials, int rows, int d, int rows_per_block) {
    int2 range = block_rows(rows, rows_per_block);
    float* partial = partials + (long long)blockIdx.x * 2 * d;
    bool vectorized = d % 4 == 0 && pg_aligned<4>(x, x_type) && pg_aligned<4>(skip, skip_type)
            && pg_aligned<4>(weight, weight_type) && pg_aligned<4>(gate, gate_type)
            && pg_aligned<4>(d_out, d_out_type) && pg_aligned<4>(d_x, d_x_type) && pg_aligned<4>(d_skip, d_skip_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        for (int c = threadIdx.x * VEC; c < d; c += blockDim.x * VEC) {
            float w[VEC];
            float a[VEC];
            pg_load_vec<VEC>(weight, weight_type, c, w);
            pg_load_vec<VEC>(gate, gate_type, c, a);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                a[k] = sigmoid(a[k]);
            }
            float sum_skip[VEC] = {};
            float sum_gap[VEC] = {};
            for (int r = range.x; r < range.y; r++) {
                long long i = (long long)r * d + c;
                float g[VEC];
                float v[VEC];
                float sk[VEC];
                float update[VEC];
                pg_load_vec<VEC>(d_out, d_out_type, i, g);
                pg_load_vec<VEC>(x, x_type, i, v);
                pg_load_vec<VEC>(skip, skip_type, i, sk);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    sum_skip[k] += sk[k] * g[k];
                    sum_gap[k] += (v[k] - w[k] * sk[k]) * g[k];
                    update[k] = a[k] * g[k];
                }
                pg_accumulate_vec<VEC>(d_x, d_x_type, i, update);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    update[k] = (1.0f - a[k]) * w[k] * g[k];
                }
                pg_accumulate_vec<VEC>(d_skip, d_skip_type, i, update);
            }
            pg_store_vec<VEC>(partial, PG_F32, c, sum_skip);
            pg_store_vec<VEC>(partial, PG_F32, d + c, sum_gap);
        }
    });
}

// ---- the second pass of the row sums ----

// The sum over b of partials[b * width + column], in double and a fixed order: the block's 32 x 32 threads take
// the columns threadIdx.x and every 32nd partial row from threadIdx.y; row 0 of threads adds the 32 results in
// order and returns the total (the other threads, and inactive columns, give 0). Every thread of the block must
// call it (it synchronizes); blocks of 32 x 32 threads.
__device__ double column_total(const float* partials, int blocks, int width, int column, bool active) {
    __shared__ double scratch[32][33];
    double acc = 0.0;
    if (active) {
        for (int b = threadIdx.y; b < blocks; b += 32) {
            acc += partials[(long long)b * width + column];
        }
    }
    // The barrier before the write lets a second call reuse the scratch once row 0 has read the first's.
    __syncthreads();
    scratch[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    double total = 0.0;
    if (threadIdx.y == 0) {
        for (int k = 0; k < 32; k++) {
            total += scratch[k][threadIdx.x];
        }
    }
    return total;
}

// dst[j] += sum over the blocks of partials[b][j], j < width: grid ceil(width / 32) of 32 x 32 threads.
extern "C" __global__ void pg_sum_column_partials(const float* partials, int blocks, int width, void* dst,
                                                  int dst_type) {
    int column = blockIdx.x * 32 + threadIdx.x;
    double total = column_total(partials, blocks, width, column, column < width);
    if (threadIdx.y == 0 && column < width) {
        pg_accumulate(dst, dst_type, column, (float)total);
    }
}

// dWeight[j] += (1 - a) sum(skip g), dGate[j] += a (1 - a) sum((x - w skip) g) with a = sigmoid(gate[j]) in
// double, from pg_skip_gate_backward_partial's partials [blocks, 2, d]: grid ceil(d / 32) of 32 x 32 threads.
extern "C" __global__ void pg_skip_gate_finish(const float* partials, int blocks, int d, const void* gate,
                                               int gate_type, void* d_weight, int d_weight_type, void* d_gate,
                                               int d_gate_type) {
    int column = blockIdx.x * 32 + threadIdx.x;
    bool active = column < d;
    double sum_skip = column_total(partials, blocks, 2 * d, column, active);
    double sum_gap = column_total(partials, blocks, 2 * d, d + column, active);
    if (threadIdx.y == 0 && active) {
        double a = sigmoid(pg_load(gate, gate_type, column));
        pg_accumulate(d_weight, d_weight_type, column, (float)((1.0 - a) * sum_skip));
        pg_accumulate(d_gate, d_gate_type, column, (float)(a * (1.0 - a) * sum_gap));
    }
}

// ---- leaky_relu^2 ----

// out = leaky_relu(x, slope)^2, elementwise.
extern "C" __global__ void pg_leaky_relu_squared(const void* x, int x_type, float slope, void* out, int out_type,
                                                 long long n) {
    bool vectorized = pg_aligned<4>(x, x_type) && pg_aligned<4>(out, out_type);
    pg_for_each_chunk(n, vectorized, [&](auto width, long long i) {
        constexpr int VEC = decltype(width)::value;
        float v[VEC];
        pg_load_vec<VEC>(x, x_type, i, v);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            float l = v[k] > 0.0f ? v[k] : slope * v[k];
            v[k] = l * l;
        }
        pg_store_vec<VEC>(out, out_type, i, v);
    });
}

// dX += 2 leaky(x) leaky'(x) g = (x > 0 ? 2 : 2 slope^2) x g, with leaky'(0) = slope as in PyTorch.
extern "C" __global__ void pg_leaky_relu_squared_backward(const void* x, int x_type, float slope, const void* d_out,
                                                          int d_out_type, void* d_x, int d_x_type, long long n) {
    bool vectorized = pg_aligned<4>(x, x_type) && pg_aligned<4>(d_out, d_out_type) && pg_aligned<4>(d_x, d_x_type);
    float slope_squared2 = 2.0f * slope * slope;
    pg_for_each_chunk(n, vectorized, [&](auto width, long long i) {
        constexpr int VEC = decltype(width)::value;
        float v[VEC];
        float g[VEC];
        pg_load_vec<VEC>(x, x_type, i, v);
        pg_load_vec<VEC>(d_out, d_out_type, i, g);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            g[k] = (v[k] > 0.0f ? 2.0f : slope_squared2) * v[k] * g[k];
        }
        pg_accumulate_vec<VEC>(d_x, d_x_type, i, g);
    });
}
