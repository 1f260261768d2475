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

// ---- embedding backward ----
//
// dWeight[v] += the sum of dOut[n] over the positions n with ids[n] = v, added in position order and without float
// atomics, so that every run gives the same bits. A stable counting sort of the positions by id, then segment sums
// split into pieces of at most 32 positions, so that a frequent token (a few percent of all positions) is summed by
// many warps at once:
//  1. pg_embedding_tile_counts: for each tile of EMBEDDING_TILE positions, each position's rank among the tile's
//     earlier positions of its id, and counts[v][tile] = the occurrences of v in the tile (zero-filled beforehand).
//  2. pg_embedding_count_prefix: counts[v][tile] becomes the occurrences of v in the tiles before; totals[v].
//  3. pg_embedding_starts: exclusive prefix sums over the vocabulary of the totals (v's first slot among the sorted
//     positions) and of v's piece count.
//  4. pg_embedding_scatter: sorted[starts[v] + counts[v][tile] + rank] = n.
//  5. pg_embedding_piece_sums: a warp per piece sums its rows in position order; a token of one piece adds the sum
//     into dWeight, the pieces of a token of several go to partials [pieces, d].
//  6. pg_embedding_combine_pieces: a warp per token of several pieces adds their partials, in order, into dWeight.
// EMBEDDING_TILE and EMBEDDING_PIECE: the same constants in CudaLayerOps.
#define EMBEDDING_TILE 512
#define EMBEDDING_PIECE 32

__device__ __forceinline__ int warp_inclusive_scan(int x) {
    int lane = threadIdx.x & 31;
    for (int offset = 1; offset < 32; offset <<= 1) {
        int before = __shfl_up_sync(0xffffffffu, x, offset);
        if (lane >= offset) {
            x += before;
        }
    }
    return x;
}

// The sum of x over the block's threads before this one; *total: over all of them. warp_totals: 32 ints of shared
// memory, free again when this returns.
__device__ __forceinline__ int block_exclusive_scan(int x, int* warp_totals, int* total) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    int inclusive = warp_inclusive_scan(x);
    if (lane == 31) {
        warp_totals[warp] = inclusive;
    }
    __syncthreads();
    int warp_total = lane < (int)(blockDim.x >> 5) ? warp_totals[lane] : 0;
    int warps_inclusive = warp_inclusive_scan(warp_total);
    int warps_before = __shfl_sync(0xffffffffu, warps_inclusive - warp_total, warp);
    *total = __shfl_sync(0xffffffffu, warps_inclusive, 31);
    __syncthreads();
    return warps_before + inclusive - x;
}

// A block of EMBEDDING_TILE threads per tile, a position each. A tile is small enough to compare every position with
// every other through shared memory (broadcast reads), which gives ranks in position order without atomics.
extern "C" __global__ void __launch_bounds__(EMBEDDING_TILE) pg_embedding_tile_counts(const int* ids, int rows,
                                                                                      int vocab, int tiles,
                                                                                      int* counts, int* ranks) {
    __shared__ int tile_ids[EMBEDDING_TILE];
    int tile = blockIdx.x;
    int n = tile * EMBEDDING_TILE + threadIdx.x;
    int id = -1;
    if (n < rows) {
        id = ids[n];
        pg_require_index(id, vocab, n, "token id");
    }
    tile_ids[threadIdx.x] = id;
    __syncthreads();
    if (n >= rows) {
        return;
    }
    int in_tile = min(EMBEDDING_TILE, rows - tile * EMBEDDING_TILE);
    int rank = 0;
    int count = 0;
    for (int m = 0; m < in_tile; m++) {
        if (tile_ids[m] == id) {
            count++;
            rank += m < (int)threadIdx.x;
        }
    }
    ranks[n] = rank;
    if (rank == 0) {
        counts[(long long)id * tiles + tile] = count;
    }
}

// A warp per vocabulary row v: counts[v][t] becomes the occurrences of v in tiles before t; totals[v]: in all tiles.
extern "C" __global__ void pg_embedding_count_prefix(int* counts, int* totals, int vocab, int tiles) {
    int v = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (v >= vocab) {
        return;
    }
    int lane = threadIdx.x & 31;
    int* row = counts + (long long)v * tiles;
    int carry = 0;
    for (int t0 = 0; t0 < tiles; t0 += 32) {
        int t = t0 + lane;
        int count = t < tiles ? row[t] : 0;
        int inclusive = warp_inclusive_scan(count);
        if (t < tiles) {
            row[t] = carry + inclusive - count;
        }
        carry += __shfl_sync(0xffffffffu, inclusive, 31);
    }
    if (lane == 0) {
        totals[v] = carry;
    }
}

// One block, vocab + 1 entries each: starts holds the totals on entry and becomes their exclusive prefix sum (v's
// first slot among the sorted positions; starts[vocab] = rows); piece_starts the same over ceil(total / 32), v's
// first piece (piece_starts[vocab]: the number of pieces).
extern "C" __global__ void pg_embedding_starts(int* starts, int* piece_starts, int vocab) {
    __shared__ int warp_totals[32];
    int carry = 0;
    int piece_carry = 0;
    for (int v0 = 0; v0 < vocab; v0 += blockDim.x) {
        int v = v0 + threadIdx.x;
        int count = v < vocab ? starts[v] : 0;
        int pieces = (count + EMBEDDING_PIECE - 1) / EMBEDDING_PIECE;
        int total;
        int start = carry + block_exclusive_scan(count, warp_totals, &total);
        carry += total;
        int piece_start = piece_carry + block_exclusive_scan(pieces, warp_totals, &total);
        piece_carry += total;
        if (v < vocab) {
            starts[v] = start;
            piece_starts[v] = piece_start;
        }
    }
    if (threadIdx.x == 0) {
        starts[vocab] = carry;
        piece_starts[vocab] = piece_carry;
    }
}

// sorted[starts[v] + counts[v][tile] + rank] = n: the positions grouped by id, each id's in position order.
extern "C" __global__ void pg_embedding_scatter(const int* ids, const int* ranks, const int* counts, const int* starts,
                                                int* sorted, int rows, int tiles) {
    PG_FOR_EACH(n, rows) {
        int id = ids[n];
        sorted[starts[id] + counts[(long long)id * tiles + n / EMBEDDING_TILE] + ranks[n]] = (int)n;
    }
}

// A warp per piece: the piece's EMBEDDING_PIECE (or fewer) sorted positions, one per lane, are handed round by
// shuffles while each lane sums its columns over the piece's rows in order.
extern "C" __global__ void pg_embedding_piece_sums(const int* sorted, const int* starts, const int* piece_starts,
                                                   const void* d_out, int d_out_type, float* d_weight,
                                                   float* partials, int vocab, int d) {
    int piece = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (piece >= piece_starts[vocab]) {
        return;
    }
    int lane = threadIdx.x & 31;
    // The token whose pieces hold this one: piece_starts[v] <= piece < piece_starts[v + 1] (a token without
    // positions has no pieces and so is never found).
    int v = 0;
    int above = vocab;
    while (above - v > 1) {
        int middle = (v + above) >> 1;
        if (piece_starts[middle] <= piece) {
            v = middle;
        } else {
            above = middle;
        }
    }
    int first = starts[v] + (piece - piece_starts[v]) * EMBEDDING_PIECE;
    int count = min(EMBEDDING_PIECE, starts[v + 1] - first);
    int position = lane < count ? sorted[first + lane] : 0;
    bool alone = piece_starts[v + 1] - piece_starts[v] == 1;
    bool vectorized = d % 4 == 0 && pg_aligned<4>(d_out, d_out_type) && pg_aligned<4>(d_weight, PG_F32) &&
                      pg_aligned<4>(partials, PG_F32);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        for (int j0 = 0; j0 < d; j0 += 32 * VEC) {
            int j = j0 + lane * VEC;
            float sum[VEC] = {};
#pragma unroll 8
            for (int i = 0; i < count; i++) {
                int n = __shfl_sync(0xffffffffu, position, i);
                if (j < d) {
                    float g[VEC];
                    pg_load_vec<VEC>(d_out, d_out_type, (long long)n * d + j, g);
#pragma unroll
                    for (int k = 0; k < VEC; k++) {
                        sum[k] += g[k];
                    }
                }
            }
            if (j < d) {
                if (alone) {
                    pg_accumulate_vec<VEC>(d_weight, PG_F32, (long long)v * d + j, sum);
                } else {
                    pg_store_vec<VEC>(partials, PG_F32, (long long)piece * d + j, sum);
                }
            }
        }
    });
}

// A warp per vocabulary row v of more than one piece: dWeight[v] += its pieces' partial sums, in piece order.
extern "C" __global__ void pg_embedding_combine_pieces(const int* piece_starts, const float* partials,
                                                       float* d_weight, int vocab, int d) {
    int v = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (v >= vocab) {
        return;
    }
    int first = piece_starts[v];
    int pieces = piece_starts[v + 1] - first;
    if (pieces < 2) {
        return;
    }
    int lane = threadIdx.x & 31;
    bool vectorized = d % 4 == 0 && pg_aligned<4>(d_weight, PG_F32) && pg_aligned<4>(partials, PG_F32);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        for (int j = lane * VEC; j < d; j += 32 * VEC) {
            float sum[VEC] = {};
            for (int p = 0; p < pieces; p++) {
                float partial[VEC];
                pg_load_vec<VEC>(partials, PG_F32, (long long)(first + p) * d + j, partial);
#pragma unroll
                for (int k = 0; k < VEC; k++) {
                    sum[k] += partial[k];
                }
            }
            pg_accumulate_vec<VEC>(d_weight, PG_F32, (long long)v * d + j, sum);
        }
    });
}

// ---- rms_norm ----

// A row's lane share of out = value * inv * scale (a warp per row, VEC values a lane): rms_norm's sweep after its
// sum of squares; in a fused forward, value is read back where this lane stored it.
template <int VEC>
__device__ __forceinline__ void normalize_row(const void* value, int value_type, float inv, float scale, void* out,
                                              int out_type, long long base, int d, int lane) {
    for (int j = lane * VEC; j < d; j += 32 * VEC) {
        float v[VEC];
        pg_load_vec<VEC>(value, value_type, base + j, v);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            v[k] = v[k] * inv * scale;
        }
        pg_store_vec<VEC>(out, out_type, base + j, v);
    }
}

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
        normalize_row<VEC>(x, x_type, inv, scale, out, out_type, base, d, lane);
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
                if (d_x != nullptr) {
                    pg_accumulate_vec<VEC>(d_x, d_x_type, i, g);
                }
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

// ---- a residual op fused with the rms_norm that reads its result ----
//
// The residual stream's value is written and normalized in one pass (the forward), and its whole gradient, the
// norm's contribution added to the one from the value's other readers, is formed in registers and used at once by
// the residual op's backward, instead of being written and read back. The norm is taken over the value as stored
// (rounded to its tensor's type), as the unfused rms_norm reads it.

// mix[0] a + mix[1] b with every product and the sum rounded separately, as the CPU reference computes it, so that
// the backward's recomputation gives the forward's value bit for bit.
__device__ __forceinline__ float mixed_value(float m0, float a, float m1, float b) {
    return __fadd_rn(__fmul_rn(m0, a), __fmul_rn(m1, b));
}

// v as a tensor of type dtype stores it.
__device__ __forceinline__ float as_stored(float v, int dtype) {
    return pg_is_bf16(dtype) ? pg_round_bf16(v) : v;
}

// One row of a fused forward, a warp per row: value(j, v) gives the lane's VEC values from column j as the residual
// op computes them; they are stored to `out` as its type rounds them, and the row is normalized from the stored
// values: normed = out * invRms * scale.
template <int VEC, typename Value>
__device__ __forceinline__ void store_and_normalize_row(Value value, void* out, int out_type, float scale, float eps,
                                                        void* normed, int normed_type, float* inv_rms, int row,
                                                        long long base, int d, int lane) {
    float squares = 0.0f;
    for (int j = lane * VEC; j < d; j += 32 * VEC) {
        float v[VEC];
        value(j, v);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            v[k] = as_stored(v[k], out_type);
            squares += v[k] * v[k];
        }
        pg_store_vec<VEC>(out, out_type, base + j, v);
    }
    float inv = 1.0f / sqrtf(pg_warp_sum(squares) / d + eps);
    if (lane == 0) {
        inv_rms[row] = inv;
    }
    normalize_row<VEC>(out, out_type, inv, scale, normed, normed_type, base, d, lane);
}

// mixed = mix[0] x + mix[1] x0; normed = mixed * invRms * scale: a warp per row.
extern "C" __global__ void pg_residual_mix_rms_norm(const void* x, int x_type, const void* x0, int x0_type,
                                                    const void* mix, int mix_type, float scale, float eps,
                                                    void* mixed, int mixed_type, void* normed, int normed_type,
                                                    float* inv_rms, int rows, int d) {
    int row = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    int lane = threadIdx.x & 31;
    long long base = (long long)row * d;
    bool vectorized = d % 4 == 0 && pg_aligned<4>(x, x_type) && pg_aligned<4>(x0, x0_type)
            && pg_aligned<4>(mix, mix_type) && pg_aligned<4>(mixed, mixed_type) && pg_aligned<4>(normed, normed_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        auto mix_value = [&](int j, float (&v)[VEC]) {
            float b[VEC];
            float m0[VEC];
            float m1[VEC];
            pg_load_vec<VEC>(x, x_type, base + j, v);
            pg_load_vec<VEC>(x0, x0_type, base + j, b);
            pg_load_vec<VEC>(mix, mix_type, j, m0);
            pg_load_vec<VEC>(mix, mix_type, d + j, m1);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                v[k] = mixed_value(m0[k], v[k], m1[k], b[k]);
            }
        };
        store_and_normalize_row<VEC>(mix_value, mixed, mixed_type, scale, eps, normed, normed_type, inv_rms, row,
                                     base, d, lane);
    });
}

// out = x + scale y; normed = out * invRms * norm_scale: a warp per row. out may be x: each value is read before the
// same thread writes it.
extern "C" __global__ void pg_scaled_residual_rms_norm(const void* x, int x_type, const void* scale, int scale_type,
                                                       const void* y, int y_type, float norm_scale, float eps,
                                                       void* out, int out_type, void* normed, int normed_type,
                                                       float* inv_rms, int rows, int d) {
    int row = blockIdx.x * PG_ROW_WARPS + (threadIdx.x >> 5);
    if (row >= rows) {
        return;
    }
    int lane = threadIdx.x & 31;
    long long base = (long long)row * d;
    bool vectorized = d % 4 == 0 && pg_aligned<4>(x, x_type) && pg_aligned<4>(scale, scale_type)
            && pg_aligned<4>(y, y_type) && pg_aligned<4>(out, out_type) && pg_aligned<4>(normed, normed_type);
    pg_dispatch_vec<4>(vectorized, [&](auto width) {
        constexpr int VEC = decltype(width)::value;
        auto residual_value = [&](int j, float (&v)[VEC]) {
            float s[VEC];
            float b[VEC];
            pg_load_vec<VEC>(x, x_type, base + j, v);
            pg_load_vec<VEC>(scale, scale_type, j, s);
            pg_load_vec<VEC>(y, y_type, base + j, b);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                v[k] = v[k] + s[k] * b[k];
            }
        };
        store_and_normalize_row<VEC>(residual_value, out, out_type, norm_scale, eps, normed, normed_type, inv_rms,
                                     row, base, d, lane);
    });
}

// The fused backwards give a block one range of rows (block_rows) and each thread VEC consecutive columns of every
// row: the thread's columns of its rows, so that its column sums need no other thread, and the row's dot product
// for the norm is a block sum (two barriers a row). The launch has ceil(d / VEC) threads rounded up to a warp;
// VEC = 4 is launched for d % 4 == 0 only (tensors start 256-byte aligned, see CudaTensor), so every row is.

// The norm's part of a row's gradient: factor (g - v projection) with projection = inv^2 mean(g v) over the row,
// added into total. Every thread of the block calls it (inactive ones with g v = 0).
template <int VEC>
__device__ __forceinline__ void add_rms_norm_gradient(const float* g, const float* v, float gv, float inv,
                                                      float scale, int d, float* scratch, float* total) {
    float projection = pg_block_sum(gv, scratch) * inv * inv / d;
    float factor = scale * inv;
#pragma unroll
    for (int k = 0; k < VEC; k++) {
        total[k] += factor * (g[k] - v[k] * projection);
    }
}

// With g = dMixed + the norm's gradient (mixed = mix[0] x + mix[1] x0 recomputed, rounded to x's type):
// dX += mix[0] g; dX0 += mix[1] g; partials[block] = (sum x g, sum x0 g) over the block's rows, [2, d]. d_mixed may
// be null (zero). dX and dX0 may be one tensor: each is its own read-modify-write by the same thread, in that order.
template <int VEC>
__device__ __forceinline__ void residual_mix_rms_norm_backward_partial(
        const void* x, int x_type, const void* x0, int x0_type, const void* mix, int mix_type, const float* inv_rms,
        float scale, const void* d_mixed, int d_mixed_type, const void* d_normed, int d_normed_type, void* d_x,
        int d_x_type, void* d_x0, int d_x0_type, float* partials, int rows, int d, int rows_per_block) {
    __shared__ float scratch[32];
    int2 range = block_rows(rows, rows_per_block);
    int c = threadIdx.x * VEC;
    bool active = c < d;
    float m0[VEC] = {};
    float m1[VEC] = {};
    if (active) {
        pg_load_vec<VEC>(mix, mix_type, c, m0);
        pg_load_vec<VEC>(mix, mix_type, d + c, m1);
    }
    float sum_x[VEC] = {};
    float sum_x0[VEC] = {};
    for (int r = range.x; r < range.y; r++) {
        long long i = (long long)r * d + c;
        float a[VEC] = {};
        float b[VEC] = {};
        float v[VEC] = {};
        float g[VEC] = {};
        float total[VEC] = {};
        float gv = 0.0f;
        if (active) {
            pg_load_vec<VEC>(x, x_type, i, a);
            pg_load_vec<VEC>(x0, x0_type, i, b);
            pg_load_vec<VEC>(d_normed, d_normed_type, i, g);
            if (d_mixed != nullptr) {
                pg_load_vec<VEC>(d_mixed, d_mixed_type, i, total);
            }
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                v[k] = as_stored(mixed_value(m0[k], a[k], m1[k], b[k]), x_type);
                gv += g[k] * v[k];
            }
        }
        add_rms_norm_gradient<VEC>(g, v, gv, inv_rms[r], scale, d, scratch, total);
        if (active) {
            float update[VEC];
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                sum_x[k] += a[k] * total[k];
                sum_x0[k] += b[k] * total[k];
                update[k] = m0[k] * total[k];
            }
            pg_accumulate_vec<VEC>(d_x, d_x_type, i, update);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                update[k] = m1[k] * total[k];
            }
            pg_accumulate_vec<VEC>(d_x0, d_x0_type, i, update);
        }
    }
    if (active) {
        float* partial = partials + (long long)blockIdx.x * 2 * d;
        pg_store_vec<VEC>(partial, PG_F32, c, sum_x);
        pg_store_vec<VEC>(partial, PG_F32, d + c, sum_x0);
    }
}

#define RESIDUAL_MIX_RMS_NORM_BACKWARD_PARTIAL(VEC)                                                                  \
    extern "C" __global__ void pg_residual_mix_rms_norm_backward_partial_v##VEC(                                     \
            const void* x, int x_type, const void* x0, int x0_type, const void* mix, int mix_type,                   \
            const float* inv_rms, float scale, const void* d_mixed, int d_mixed_type, const void* d_normed,          \
            int d_normed_type, void* d_x, int d_x_type, void* d_x0, int d_x0_type, float* partials, int rows, int d, \
            int rows_per_block) {                                                                                    \
        residual_mix_rms_norm_backward_partial<VEC>(x, x_type, x0, x0_type, mix, mix_type, inv_rms, scale, d_mixed, \
                                                    d_mixed_type, d_normed, d_normed_type, d_x, d_x_type, d_x0,     \
                                                    d_x0_type, partials, rows, d, rows_per_block);                  \
    }
RESIDUAL_MIX_RMS_NORM_BACKWARD_PARTIAL(4)
RESIDUAL_MIX_RMS_NORM_BACKWARD_PARTIAL(1)

// With g = dOut + the norm's gradient (from out, the forward's stored result): dX += g; dY += scale g;
// partials[block] = sum y g over the block's rows, [d]. d_out may be null (zero); d_x may be d_out itself under
// PG_OVERWRITE (d_out replaced by g: each value is read before the same thread writes it).
template <int VEC>
__device__ __forceinline__ void scaled_residual_rms_norm_backward_partial(
        const void* scale, int scale_type, const void* y, int y_type, const void* out, int out_type,
        const float* inv_rms, float norm_scale, const void* d_out, int d_out_type, const void* d_normed,
        int d_normed_type, void* d_x, int d_x_type, void* d_y, int d_y_type, float* partials, int rows, int d,
        int rows_per_block) {
    __shared__ float scratch[32];
    int2 range = block_rows(rows, rows_per_block);
    int c = threadIdx.x * VEC;
    bool active = c < d;
    float s[VEC] = {};
    if (active) {
        pg_load_vec<VEC>(scale, scale_type, c, s);
    }
    float sum_y[VEC] = {};
    for (int r = range.x; r < range.y; r++) {
        long long i = (long long)r * d + c;
        float v[VEC] = {};
        float g[VEC] = {};
        float b[VEC] = {};
        float total[VEC] = {};
        float gv = 0.0f;
        if (active) {
            pg_load_vec<VEC>(out, out_type, i, v);
            pg_load_vec<VEC>(d_normed, d_normed_type, i, g);
            pg_load_vec<VEC>(y, y_type, i, b);
            if (d_out != nullptr) {
                pg_load_vec<VEC>(d_out, d_out_type, i, total);
            }
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                gv += g[k] * v[k];
            }
        }
        add_rms_norm_gradient<VEC>(g, v, gv, inv_rms[r], norm_scale, d, scratch, total);
        if (active) {
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                sum_y[k] += b[k] * total[k];
            }
            pg_accumulate_vec<VEC>(d_x, d_x_type, i, total);
#pragma unroll
            for (int k = 0; k < VEC; k++) {
                total[k] = s[k] * total[k];
            }
            pg_accumulate_vec<VEC>(d_y, d_y_type, i, total);
        }
    }
    if (active) {
        pg_store_vec<VEC>(partials + (long long)blockIdx.x * d, PG_F32, c, sum_y);
    }
}

#define SCALED_RESIDUAL_RMS_NORM_BACKWARD_PARTIAL(VEC)                                                               \
    extern "C" __global__ void pg_scaled_residual_rms_norm_backward_partial_v##VEC(                                  \
            const void* scale, int scale_type, const void* y, int y_type, const void* out, int out_type,             \
            const float* inv_rms, float norm_scale, const void* d_out, int d_out_type, const void* d_normed,         \
            int d_normed_type, void* d_x, int d_x_type, void* d_y, int d_y_type, float* partials, int rows, int d,   \
            int rows_per_block) {                                                                                    \
        scaled_residual_rms_norm_backward_partial<VEC>(scale, scale_type, y, y_type, out, out_type, inv_rms,        \
                                                       norm_scale, d_out, d_out_type, d_normed, d_normed_type, d_x, \
                                                       d_x_type, d_y, d_y_type, partials, rows, d, rows_per_block); \
    }
SCALED_RESIDUAL_RMS_NORM_BACKWARD_PARTIAL(4)
SCALED_RESIDUAL_RMS_NORM_BACKWARD_PARTIAL(1)

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
