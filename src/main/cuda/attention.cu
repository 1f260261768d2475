// Causal grouped-query flash attention for head_dim 64 (io.pgolf.gpu.cuda.CudaFlashAttention), FlashAttention-2
// style on bf16 tensor cores (mma.sync m16n8k16, float32 accumulators). A block of 4 warps takes a tile of 64 rows;
// each warp owns 16 of them and streams the other side in tiles of 64 rows through double-buffered shared memory
// (cp.async). Tiles above the causal diagonal are never visited; the diagonal tile is masked element by element.
//
// Forward: online softmax in float32 (base 2, the scale folded into log2 e), log-sum-exp saved per row.
// Backward, deterministic (no float atomics): D = rowsum(dO * O); one pass over key tiles keeps dK and dV in
// registers over every query head of the kv group, one pass over query tiles keeps dQ; both recompute the
// probabilities from the log-sum-exp. Gradients are added into dQ, dK, dV in their own types.
//
// q, k, v, dO are bf16 [rows, heads * 64] / [rows, kvHeads * 64] (the Java side converts float32 ones first);
// out and the gradients are (pointer, dtype) pairs, see pgolf.cuh; log-sum-exp and D are float32
// [batch, heads, seqLen].
#include "pgolf.cuh"

#define PG_ATT_DIM 64
#define PG_ATT_TILE 64
#define PG_ATT_THREADS 128
// Query rows per forward block: 4 warps of 2 x 16.
#define PG_ATT_FORWARD_ROWS 128
#define PG_ATT_TILE_ELEMENTS (PG_ATT_TILE * PG_ATT_DIM)
#define PG_ATT_TILE_BYTES (PG_ATT_TILE_ELEMENTS * 2)
#define PG_ATT_LOG2E 1.4426950408889634f
#define PG_ATT_LN2 0.6931471805599453f

typedef __nv_bfloat16 pg_bf16;

// A tile is 64 rows of 128 bytes (eight 16-byte chunks). Chunk c of row r is stored at chunk c ^ (r % 8), so the
// eight row addresses of one ldmatrix 8x8 matrix (same chunk, consecutive rows) fall in eight different banks.
__device__ __forceinline__ uint32_t pg_att_offset(int row, int chunk) {
    return (uint32_t)(row * 128 + ((chunk ^ (row & 7)) << 4));
}

__device__ __forceinline__ uint32_t pg_att_shared(const void* p) {
    return (uint32_t)__cvta_generic_to_shared(p);
}

// Tile i of consecutive tiles starting at shared address `first`.
__device__ __forceinline__ uint32_t pg_att_buffer(uint32_t first, int i) {
    return first + (uint32_t)(i * PG_ATT_TILE_BYTES);
}

// Starts copying 64 rows of one head (row stride `width` elements, from `src`) into a tile; rows at or past
// `validRows` become zeros. The whole block takes part; completion through cp.async.commit/wait.
__device__ __forceinline__ void pg_att_copy_tile(uint32_t tile, const pg_bf16* src, int width, int validRows) {
    for (int e = threadIdx.x; e < PG_ATT_TILE * 8; e += PG_ATT_THREADS) {
        int row = e >> 3;
        int chunk = e & 7;
        bool valid = row < validRows;
        const pg_bf16* from = valid ? src + (long long)row * width + chunk * 8 : src;
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
                     :: "r"(tile + pg_att_offset(row, chunk)), "l"(from), "r"(valid ? 16 : 0) : "memory");
    }
}

// Starts copying key tile `tile` and value tile `tile` of one sequence's kv head into their buffers `buffer`.
__device__ __forceinline__ void pg_att_copy_key_values(uint32_t keyTiles, uint32_t valueTiles, int buffer,
                                                       const pg_bf16* keys, const pg_bf16* values, int kvWidth,
                                                       int seqLen, int tile) {
    long long first = (long long)tile * PG_ATT_TILE;
    pg_att_copy_tile(pg_att_buffer(keyTiles, buffer), keys + first * kvWidth, kvWidth, seqLen - (int)first);
    pg_att_copy_tile(pg_att_buffer(valueTiles, buffer), values + first * kvWidth, kvWidth, seqLen - (int)first);
}

__device__ __forceinline__ void pg_att_commit() {
    asm volatile("cp.async.commit_group;\n" ::: "memory");
}

// Waits until at most `pending` (0 or 1) of this thread's copy groups are still in flight.
__device__ __forceinline__ void pg_att_wait(int pending) {
    if (pending == 0) {
        asm volatile("cp.async.wait_group 0;\n" ::: "memory");
    } else {
        asm volatile("cp.async.wait_group 1;\n" ::: "memory");
    }
}

__device__ __forceinline__ void pg_att_ldmatrix(uint32_t (&r)[4], uint32_t address) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(address) : "memory");
}

__device__ __forceinline__ void pg_att_ldmatrix_trans(uint32_t (&r)[4], uint32_t address) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(address) : "memory");
}

// c (16x8, f32) += a (16x16, bf16, row-major fragment) * b (16x8, bf16, column fragment).
__device__ __forceinline__ void pg_att_mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t pg_att_pack(float lo, float hi) {
    __nv_bfloat162 pair = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&pair);
}

// The warp's A fragments of tile rows [row0, row0 + 16) over the 64 dims, one per 16-dim step.
__device__ __forceinline__ void pg_att_load_rows(uint32_t tile, int row0, uint32_t (&a)[4][4]) {
    int lane = threadIdx.x & 31;
    int row = row0 + (lane & 15);
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
        pg_att_ldmatrix(a[kk], tile + pg_att_offset(row, 2 * kk + (lane >> 4)));
    }
}

// acc[m] (16 x 64) += A[m] (16 x 64 dims) * tile^T for each of M row blocks: column j of the result is the dot
// product with tile row j. Each fragment of the tile is loaded once for all M blocks.
template <int M>
__device__ __forceinline__ void pg_att_mma_rows(const uint32_t (&a)[M][4][4], uint32_t tile, float (&acc)[M][8][4]) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
#pragma unroll
        for (int np = 0; np < 4; np++) {
            uint32_t b[4];
            pg_att_ldmatrix(b, tile + pg_att_offset(16 * np + (lane & 7) + ((lane >> 4) << 3),
                                                    2 * kk + ((lane >> 3) & 1)));
#pragma unroll
            for (int m = 0; m < M; m++) {
                pg_att_mma(acc[m][2 * np], a[m][kk], b[0], b[1]);
                pg_att_mma(acc[m][2 * np + 1], a[m][kk], b[2], b[3]);
            }
        }
    }
}

// acc[m] (16 x 64 dims) += P[m] (16 x 64 tile rows, A fragments) * tile for each of M row blocks.
template <int M>
__device__ __forceinline__ void pg_att_mma_tile(const uint32_t (&p)[M][4][4], uint32_t tile, float (&acc)[M][8][4]) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
#pragma unroll
        for (int dp = 0; dp < 4; dp++) {
            uint32_t b[4];
            pg_att_ldmatrix_trans(b, tile + pg_att_offset(16 * kk + (lane & 15), 2 * dp + (lane >> 4)));
#pragma unroll
            for (int m = 0; m < M; m++) {
                pg_att_mma(acc[m][2 * dp], p[m][kk], b[0], b[1]);
                pg_att_mma(acc[m][2 * dp + 1], p[m][kk], b[2], b[3]);
            }
        }
    }
}

// A 16 x 64 accumulator rounded to bf16 A fragments (the accumulator's layout is the A operand's, pairwise).
__device__ __forceinline__ void pg_att_to_operand(const float (&acc)[8][4], uint32_t (&a)[4][4]) {
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
        a[kk][0] = pg_att_pack(acc[2 * kk][0], acc[2 * kk][1]);
        a[kk][1] = pg_att_pack(acc[2 * kk][2], acc[2 * kk][3]);
        a[kk][2] = pg_att_pack(acc[2 * kk + 1][0], acc[2 * kk + 1][1]);
        a[kk][3] = pg_att_pack(acc[2 * kk + 1][2], acc[2 * kk + 1][3]);
    }
}

__device__ __forceinline__ void pg_att_zero(float (&acc)[8][4]) {
#pragma unroll
    for (int nt = 0; nt < 8; nt++) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            acc[nt][i] = 0.0f;
        }
    }
}

// Accumulator element i of n-tile nt sits at row (lane / 4) + 8 * (i / 2) and column 8 nt + 2 (lane % 4) + i % 2
// of the warp's 16 x 64 block.
__device__ __forceinline__ int pg_att_row(int i) {
    return ((threadIdx.x & 31) >> 2) + ((i >> 1) << 3);
}

__device__ __forceinline__ int pg_att_col(int nt, int i) {
    return nt * 8 + ((threadIdx.x & 3) << 1) + (i & 1);
}

// The warp's 16 x 64 accumulator times `scale`, added into rows [row0, row0 + 16) of a head (row stride `width`,
// column `col`), rows at or past `validRows` skipped: p[...] += value in p's type.
__device__ __forceinline__ void pg_att_add_rows(void* p, int type, long long row0, int width, int col, int validRows,
                                                const float (&acc)[8][4], float scale) {
#pragma unroll
    for (int half = 0; half < 2; half++) {
        int row = pg_att_row(2 * half);
        if (row >= validRows) {
            continue;
        }
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
            long long i = (row0 + row) * width + col + pg_att_col(nt, 0);
            float a = acc[nt][2 * half] * scale;
            float b = acc[nt][2 * half + 1] * scale;
            if (type == PG_BF16) {
                __nv_bfloat162* pair = reinterpret_cast<__nv_bfloat162*>(reinterpret_cast<pg_bf16*>(p) + i);
                float2 old = __bfloat1622float2(*pair);
                *pair = __floats2bfloat162_rn(old.x + a, old.y + b);
            } else {
                float2* pair = reinterpret_cast<float2*>(reinterpret_cast<float*>(p) + i);
                float2 old = *pair;
                *pair = make_float2(old.x + a, old.y + b);
            }
        }
    }
}

// grid (ceil(seqLen / 128), heads, batch), block 128. Block x takes query tile gridDim.x - 1 - x (the longest first)
// of 128 rows of head y of sequence z; warp w its rows 32 w .. 32 w + 31 as two blocks of 16, so that every key and
// value fragment loaded from shared memory feeds two products.
extern "C" __global__ void __launch_bounds__(PG_ATT_THREADS)
pg_attention_forward(const pg_bf16* q, const pg_bf16* k, const pg_bf16* v, void* out, int out_type, float* lse,
                     int seqLen, int heads, int kvHeads, float scale) {
    // Two query tiles, then two key and two value buffers.
    __shared__ __align__(128) pg_bf16 tiles[6][PG_ATT_TILE_ELEMENTS];
    uint32_t queryTiles = pg_att_shared(tiles[0]);
    uint32_t keyTiles = pg_att_shared(tiles[2]);
    uint32_t valueTiles = pg_att_shared(tiles[4]);
    int h = blockIdx.y;
    int b = blockIdx.z;
    int warp = threadIdx.x >> 5;
    int qWidth = heads * PG_ATT_DIM;
    int kvWidth = kvHeads * PG_ATT_DIM;
    int kvCol = h / (heads / kvHeads) * PG_ATT_DIM;
    long long rowBase = (long long)b * seqLen;
    int first = (gridDim.x - 1 - blockIdx.x) * PG_ATT_FORWARD_ROWS;
    int lastKeyTile = (min(seqLen, first + PG_ATT_FORWARD_ROWS) - 1) / PG_ATT_TILE;
    const pg_bf16* queries = q + (rowBase + first) * qWidth + h * PG_ATT_DIM;
    const pg_bf16* keys = k + rowBase * kvWidth + kvCol;
    const pg_bf16* values = v + rowBase * kvWidth + kvCol;

    int secondRows = seqLen - first - PG_ATT_TILE;
    pg_att_copy_tile(queryTiles, queries, qWidth, seqLen - first);
    pg_att_copy_tile(pg_att_buffer(queryTiles, 1), secondRows > 0 ? queries + (long long)PG_ATT_TILE * qWidth : queries,
                     qWidth, secondRows);
    pg_att_copy_key_values(keyTiles, valueTiles, 0, keys, values, kvWidth, seqLen, 0);
    pg_att_commit();

    float scaleLog2 = scale * PG_ATT_LOG2E;
    float o[2][8][4];
    float rowMax[2][2];
    float rowSum[2][2];
    uint32_t qa[2][4][4];
#pragma unroll
    for (int m = 0; m < 2; m++) {
        pg_att_zero(o[m]);
        rowMax[m][0] = rowMax[m][1] = -INFINITY;
        rowSum[m][0] = rowSum[m][1] = 0.0f;
    }
    for (int n = 0; n <= lastKeyTile; n++) {
        int buffer = n & 1;
        if (n < lastKeyTile) {
            pg_att_copy_key_values(keyTiles, valueTiles, buffer ^ 1, keys, values, kvWidth, seqLen, n + 1);
            pg_att_commit();
            pg_att_wait(1);
        } else {
            pg_att_wait(0);
        }
        __syncthreads();
        if (n == 0) {
#pragma unroll
            for (int m = 0; m < 2; m++) {
                pg_att_load_rows(pg_att_buffer(queryTiles, warp >> 1), 32 * (warp & 1) + 16 * m, qa[m]);
            }
        }
        // Key column j of this tile is key keyOffset + j counted from the block's first query row; row r of the
        // block sees it when keyOffset + j <= r. A warp whose rows see none of the tile skips it; every row sees
        // key 0 of tile 0, so each row's running max is finite from the first tile on.
        int keyOffset = n * PG_ATT_TILE - first;
        if (keyOffset <= warp * 32 + 31) {
            float s[2][8][4];
            pg_att_zero(s[0]);
            pg_att_zero(s[1]);
            pg_att_mma_rows<2>(qa, pg_att_buffer(keyTiles, buffer), s);
            bool masking = keyOffset + PG_ATT_TILE - 1 > warp * 32;
            uint32_t pa[2][4][4];
#pragma unroll
            for (int m = 0; m < 2; m++) {
#pragma unroll
                for (int nt = 0; nt < 8; nt++) {
#pragma unroll
                    for (int i = 0; i < 4; i++) {
                        bool masked = masking && keyOffset + pg_att_col(nt, i) > warp * 32 + 16 * m + pg_att_row(i);
                        s[m][nt][i] = masked ? -INFINITY : s[m][nt][i] * scaleLog2;
                    }
                }
#pragma unroll
                for (int half = 0; half < 2; half++) {
                    float tileMax = rowMax[m][half];
#pragma unroll
                    for (int nt = 0; nt < 8; nt++) {
                        tileMax = fmaxf(tileMax, fmaxf(s[m][nt][2 * half], s[m][nt][2 * half + 1]));
                    }
                    tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, 1));
                    tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, 2));
                    float correction = exp2f(rowMax[m][half] - tileMax);
                    rowMax[m][half] = tileMax;
                    float sum = rowSum[m][half] * correction;
#pragma unroll
                    for (int nt = 0; nt < 8; nt++) {
                        o[m][nt][2 * half] *= correction;
                        o[m][nt][2 * half + 1] *= correction;
                        s[m][nt][2 * half] = exp2f(s[m][nt][2 * half] - tileMax);
                        s[m][nt][2 * half + 1] = exp2f(s[m][nt][2 * half + 1] - tileMax);
                        sum += s[m][nt][2 * half] + s[m][nt][2 * half + 1];
                    }
                    rowSum[m][half] = sum;
                }
                pg_att_to_operand(s[m], pa[m]);
            }
            pg_att_mma_tile<2>(pa, pg_att_buffer(valueTiles, buffer), o);
        }
        __syncthreads();
    }

#pragma unroll
    for (int m = 0; m < 2; m++) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
            float sum = rowSum[m][half];
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            int row = first + warp * 32 + 16 * m + pg_att_row(2 * half);
            if (row >= seqLen) {
                continue;
            }
            if ((threadIdx.x & 3) == 0) {
                lse[((long long)b * heads + h) * seqLen + row] = (rowMax[m][half] + log2f(sum)) * PG_ATT_LN2;
            }
            float inverse = 1.0f / sum;
#pragma unroll
            for (int nt = 0; nt < 8; nt++) {
                long long i = (rowBase + row) * qWidth + h * PG_ATT_DIM + pg_att_col(nt, 0);
                float x = o[m][nt][2 * half] * inverse;
                float y = o[m][nt][2 * half + 1] * inverse;
                if (out_type == PG_BF16) {
                    *reinterpret_cast<__nv_bfloat162*>(static_cast<pg_bf16*>(out) + i) = __floats2bfloat162_rn(x, y);
                } else {
                    *reinterpret_cast<float2*>(static_cast<float*>(out) + i) = make_float2(x, y);
                }
            }
        }
    }
}

// rowDots[b, h, t] = dOut . out over the head's 64 dims: one warp per (row, head), n = rows * heads warps.
extern "C" __global__ void pg_attention_backward_dot(const void* out, int out_type, const pg_bf16* dOut,
                                                     float* rowDots, long long n, int seqLen, int heads) {
    int lane = threadIdx.x & 31;
    long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
    for (long long w = warp; w < n; w += warps) {
        long long row = w / heads;
        int h = (int)(w % heads);
        long long i = row * heads * PG_ATT_DIM + h * PG_ATT_DIM + 2 * lane;
        float2 g = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(dOut + i));
        float s = pg_load(out, out_type, i) * g.x + pg_load(out, out_type, i + 1) * g.y;
        s = pg_warp_sum(s);
        if (lane == 0) {
            long long b = row / seqLen;
            int t = (int)(row % seqLen);
            rowDots[(b * heads + h) * seqLen + t] = s;
        }
    }
}

// Loads one query tile's statistics: lse * log2 e and D, with +inf and 0 for rows past the sequence (their
// probabilities become exactly 0). Threads 0..63 take part.
__device__ __forceinline__ void pg_att_load_statistics(float* tileLse, float* tileDots, const float* lse,
                                                       const float* rowDots, long long statBase, int first,
                                                       int seqLen) {
    int r = threadIdx.x;
    if (r < PG_ATT_TILE) {
        bool valid = first + r < seqLen;
        tileLse[r] = valid ? lse[statBase + first + r] * PG_ATT_LOG2E : INFINITY;
        tileDots[r] = valid ? rowDots[statBase + first + r] : 0.0f;
    }
}

// grid (ceil(seqLen / 64), kvHeads, batch), block 128. Block x owns key tile x of kv head y of sequence z (the
// longest first) and visits query tiles x.. of every query head of the group; warp w owns its keys 16 w .. 16 w + 15
// and keeps their dK, dV in registers, working on transposed scores S^T = K Q^T.
extern "C" __global__ void __launch_bounds__(PG_ATT_THREADS)
pg_attention_backward_dkdv(const pg_bf16* q, const pg_bf16* k, const pg_bf16* v, const float* lse,
                           const float* rowDots, const pg_bf16* dOut, void* dK, int dK_type, void* dV, int dV_type,
                           int seqLen, int heads, int kvHeads, float scale) {
    __shared__ __align__(128) pg_bf16 tiles[4][PG_ATT_TILE_ELEMENTS];
    __shared__ float statistics[2][2][PG_ATT_TILE];
    uint32_t queryTiles = pg_att_shared(tiles[0]);
    uint32_t gradTiles = pg_att_shared(tiles[2]);
    int nTile = blockIdx.x;
    int kv = blockIdx.y;
    int b = blockIdx.z;
    int warp = threadIdx.x >> 5;
    int qWidth = heads * PG_ATT_DIM;
    int kvWidth = kvHeads * PG_ATT_DIM;
    int group = heads / kvHeads;
    long long rowBase = (long long)b * seqLen;
    int keyFirst = nTile * PG_ATT_TILE;
    int queryTileCount = gridDim.x - nTile;
    int steps = group * queryTileCount;

    // Keys and values pass through the second buffers into registers before the query tiles stream in.
    const pg_bf16* keys = k + (rowBase + keyFirst) * kvWidth + kv * PG_ATT_DIM;
    pg_att_copy_tile(pg_att_buffer(queryTiles, 1), keys, kvWidth, seqLen - keyFirst);
    pg_att_copy_tile(pg_att_buffer(gradTiles, 1), v + (keys - k), kvWidth, seqLen - keyFirst);
    {
        int h = kv * group;
        long long offset = (rowBase + keyFirst) * qWidth + h * PG_ATT_DIM;
        pg_att_copy_tile(queryTiles, q + offset, qWidth, seqLen - keyFirst);
        pg_att_copy_tile(gradTiles, dOut + offset, qWidth, seqLen - keyFirst);
        pg_att_load_statistics(statistics[0][0], statistics[0][1], lse, rowDots, ((long long)b * heads + h) * seqLen,
                               keyFirst, seqLen);
    }
    pg_att_commit();
    pg_att_wait(0);
    __syncthreads();
    uint32_t ka[1][4][4];
    uint32_t va[1][4][4];
    pg_att_load_rows(pg_att_buffer(queryTiles, 1), warp * 16, ka[0]);
    pg_att_load_rows(pg_att_buffer(gradTiles, 1), warp * 16, va[0]);
    __syncthreads();

    float scaleLog2 = scale * PG_ATT_LOG2E;
    float dk[1][8][4];
    float dv[1][8][4];
    pg_att_zero(dk[0]);
    pg_att_zero(dv[0]);
    for (int step = 0; step < steps; step++) {
        int buffer = step & 1;
        if (step + 1 < steps) {
            int h = kv * group + (step + 1) / queryTileCount;
            int first = (nTile + (step + 1) % queryTileCount) * PG_ATT_TILE;
            long long offset = (rowBase + first) * qWidth + h * PG_ATT_DIM;
            pg_att_copy_tile(pg_att_buffer(queryTiles, buffer ^ 1), q + offset, qWidth, seqLen - first);
            pg_att_copy_tile(pg_att_buffer(gradTiles, buffer ^ 1), dOut + offset, qWidth, seqLen - first);
            pg_att_load_statistics(statistics[buffer ^ 1][0], statistics[buffer ^ 1][1], lse, rowDots,
                                   ((long long)b * heads + h) * seqLen, first, seqLen);
            pg_att_commit();
            pg_att_wait(1);
        } else {
            pg_att_wait(0);
        }
        __syncthreads();
        const float* tileLse = statistics[buffer][0];
        const float* tileDots = statistics[buffer][1];
        // On the diagonal tile, key row r sees query column j when r <= j.
        bool diagonal = step % queryTileCount == 0;
        float p[1][8][4];
        pg_att_zero(p[0]);
        pg_att_mma_rows<1>(ka, pg_att_buffer(queryTiles, buffer), p);
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                int j = pg_att_col(nt, i);
                bool masked = diagonal && warp * 16 + pg_att_row(i) > j;
                p[0][nt][i] = masked ? 0.0f : exp2f(p[0][nt][i] * scaleLog2 - tileLse[j]);
            }
        }
        uint32_t operand[1][4][4];
        pg_att_to_operand(p[0], operand[0]);
        pg_att_mma_tile<1>(operand, pg_att_buffer(gradTiles, buffer), dv);
        float ds[1][8][4];
        pg_att_zero(ds[0]);
        pg_att_mma_rows<1>(va, pg_att_buffer(gradTiles, buffer), ds);
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                ds[0][nt][i] = p[0][nt][i] * (ds[0][nt][i] - tileDots[pg_att_col(nt, i)]);
            }
        }
        pg_att_to_operand(ds[0], operand[0]);
        pg_att_mma_tile<1>(operand, pg_att_buffer(queryTiles, buffer), dk);
        __syncthreads();
    }
    long long keyRow0 = rowBase + keyFirst + warp * 16;
    int validRows = seqLen - keyFirst - warp * 16;
    pg_att_add_rows(dK, dK_type, keyRow0, kvWidth, kv * PG_ATT_DIM, validRows, dk[0], scale);
    pg_att_add_rows(dV, dV_type, keyRow0, kvWidth, kv * PG_ATT_DIM, validRows, dv[0], 1.0f);
}

// grid (ceil(seqLen / 64), heads, batch), block 128. Block x owns query tile gridDim.x - 1 - x of head y of
// sequence z and visits key tiles 0..that one; warp w owns its rows 16 w .. 16 w + 15 and keeps their dQ.
extern "C" __global__ void __launch_bounds__(PG_ATT_THREADS)
pg_attention_backward_dq(const pg_bf16* q, const pg_bf16* k, const pg_bf16* v, const float* lse,
                         const float* rowDots, const pg_bf16* dOut, void* dQ, int dQ_type, int seqLen, int heads,
                         int kvHeads, float scale) {
    __shared__ __align__(128) pg_bf16 tiles[4][PG_ATT_TILE_ELEMENTS];
    uint32_t keyTiles = pg_att_shared(tiles[0]);
    uint32_t valueTiles = pg_att_shared(tiles[2]);
    int mTile = gridDim.x - 1 - blockIdx.x;
    int h = blockIdx.y;
    int b = blockIdx.z;
    int warp = threadIdx.x >> 5;
    int qWidth = heads * PG_ATT_DIM;
    int kvWidth = kvHeads * PG_ATT_DIM;
    int kvCol = h / (heads / kvHeads) * PG_ATT_DIM;
    long long rowBase = (long long)b * seqLen;
    int first = mTile * PG_ATT_TILE;
    const pg_bf16* keys = k + rowBase * kvWidth + kvCol;
    const pg_bf16* values = v + rowBase * kvWidth + kvCol;

    // Queries and output gradients pass through the second buffers into registers before the key tiles stream in.
    long long queryOffset = (rowBase + first) * qWidth + h * PG_ATT_DIM;
    pg_att_copy_tile(pg_att_buffer(keyTiles, 1), q + queryOffset, qWidth, seqLen - first);
    pg_att_copy_tile(pg_att_buffer(valueTiles, 1), dOut + queryOffset, qWidth, seqLen - first);
    pg_att_copy_key_values(keyTiles, valueTiles, 0, keys, values, kvWidth, seqLen, 0);
    pg_att_commit();
    pg_att_wait(0);
    __syncthreads();
    uint32_t qa[1][4][4];
    uint32_t ga[1][4][4];
    pg_att_load_rows(pg_att_buffer(keyTiles, 1), warp * 16, qa[0]);
    pg_att_load_rows(pg_att_buffer(valueTiles, 1), warp * 16, ga[0]);
    __syncthreads();

    float rowLse[2];
    float rowDot[2];
    long long statBase = ((long long)b * heads + h) * seqLen;
#pragma unroll
    for (int half = 0; half < 2; half++) {
        int row = first + warp * 16 + pg_att_row(2 * half);
        bool valid = row < seqLen;
        rowLse[half] = valid ? lse[statBase + row] * PG_ATT_LOG2E : INFINITY;
        rowDot[half] = valid ? rowDots[statBase + row] : 0.0f;
    }

    float scaleLog2 = scale * PG_ATT_LOG2E;
    float dq[1][8][4];
    pg_att_zero(dq[0]);
    for (int n = 0; n <= mTile; n++) {
        int buffer = n & 1;
        if (n < mTile) {
            pg_att_copy_key_values(keyTiles, valueTiles, buffer ^ 1, keys, values, kvWidth, seqLen, n + 1);
            pg_att_commit();
            pg_att_wait(1);
        } else {
            pg_att_wait(0);
        }
        __syncthreads();
        bool diagonal = n == mTile;
        float p[1][8][4];
        pg_att_zero(p[0]);
        pg_att_mma_rows<1>(qa, pg_att_buffer(keyTiles, buffer), p);
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                bool masked = diagonal && pg_att_col(nt, i) > warp * 16 + pg_att_row(i);
                p[0][nt][i] = masked ? 0.0f : exp2f(p[0][nt][i] * scaleLog2 - rowLse[i >> 1]);
            }
        }
        float ds[1][8][4];
        pg_att_zero(ds[0]);
        pg_att_mma_rows<1>(ga, pg_att_buffer(valueTiles, buffer), ds);
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                ds[0][nt][i] = p[0][nt][i] * (ds[0][nt][i] - rowDot[i >> 1]);
            }
        }
        uint32_t operand[1][4][4];
        pg_att_to_operand(ds[0], operand[0]);
        pg_att_mma_tile<1>(operand, pg_att_buffer(keyTiles, buffer), dq);
        __syncthreads();
    }
    pg_att_add_rows(dQ, dQ_type, rowBase + first + warp * 16, qWidth, h * PG_ATT_DIM, seqLen - first - warp * 16, dq[0],
                    scale);
}
