// Causal grouped-query flash attention for head_dim <= 64 (io.pgolf.gpu.cuda.CudaFlashAttention), FlashAttention-2
// style on bf16 tensor cores (float32 accumulators), K and V streamed through swizzled shared-memory tiles with
// cp.async. The backward uses mma.sync m16n8k16: a block of 4 warps owns 128 rows (queries, or keys in the dK/dV
// pass); each warp owns 32 of them as two blocks of 16, so that every fragment it reads from shared memory feeds two
// MMAs, and streams the other side in double-buffered blocks of 128 rows, so that each barrier and each wait for a
// copy covers twice the work. The forward, on Hopper, uses warpgroup MMAs (wgmma): a block of two warpgroups owns
// 128 query rows, 64 each, and streams key/value tiles of 64 rows through three buffers (its scores of a whole tile
// live in registers). Tiles above the causal diagonal are never visited, parts of a tile no row of a warp (or
// warpgroup) can see are skipped, and only the diagonal takes the element-by-element mask (the other tiles run a
// code path without it).
//
// Forward: online softmax in float32 (base 2, the scale folded into log2 e; the running max rises lazily, see
// PG_ATT_MAX_SLACK), log-sum-exp saved per row; with XSA, the epilogue stores out = y - c vHat instead of the output y
// (vHat the row's value of the kv head, normalized) and saves c per (row, head).
// Backward, deterministic (no float atomics): D = rowsum(dO * O) (with XSA, dO is first taken through XSA's backward
// and O rebuilt as out + c vHat, and XSA's value gradient goes into dV); one pass over key blocks keeps dK and dV in
// registers over every query head of the kv group, one pass over query blocks keeps dQ; both recompute the
// probabilities from the log-sum-exp, 16 columns at a time. Gradients are added into dQ, dK, dV in their own types.
//
// q, k, v, dO are bf16 [rows, heads * headDim] / [rows, kvHeads * headDim] (the Java side converts float32 ones
// first; headDim is a multiple of 8, at most 64);
// out and the gradients are (pointer, dtype) pairs, see pgolf.cuh; log-sum-exp and D are float32
// [batch, heads, seqLen].
#include "pgolf.cuh"
#include "pgolf_vec.cuh"

// Dims of a shared-memory tile row: a head of headDim < 64 (a multiple of 8) is padded with zeros, which add nothing
// to q . k and produce output columns that are never stored.
#define PG_ATT_DIM 64
#define PG_ATT_TILE 64
#define PG_ATT_THREADS 128
// Rows a block owns: 4 warps of 2 x 16.
#define PG_ATT_BLOCK_ROWS 128
// Columns the backward takes at a time (one MMA k step of P V-like products).
#define PG_ATT_STEP 16
#define PG_ATT_TILE_ELEMENTS (PG_ATT_TILE * PG_ATT_DIM)
#define PG_ATT_TILE_BYTES (PG_ATT_TILE_ELEMENTS * 2)
#define PG_ATT_LOG2E 1.4426950408889634f
#define PG_ATT_LN2 0.6931471805599453f

typedef __nv_bfloat16 pg_bf16;

// The backward passes' shared memory, over the 48 KB a static array may take: two buffers of 128 rows of two operands
// (64 KB), and in the dK/dV pass two buffers of 2 x 128 statistics after them (2 KB); CudaFlashAttention passes
// these sizes.
extern __shared__ __align__(128) unsigned char pg_att_dynamic[];

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

// Starts copying 64 rows of one head of headDim dims (row stride `width` elements, from `src`) into a tile; rows at
// or past `validRows`, and dims at or past headDim, become zeros (src must still be a valid address). The whole block
// takes part; completion through cp.async.commit/wait.
__device__ __forceinline__ void pg_att_copy_tile(uint32_t tile, const pg_bf16* src, int width, int validRows,
                                                 int headDim) {
    for (int e = threadIdx.x; e < PG_ATT_TILE * 8; e += PG_ATT_THREADS) {
        int row = e >> 3;
        int chunk = e & 7;
        bool valid = row < validRows && chunk * 8 < headDim;
        const pg_bf16* from = valid ? src + (long long)row * width + chunk * 8 : src;
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
                     :: "r"(tile + pg_att_offset(row, chunk)), "l"(from), "r"(valid ? 16 : 0) : "memory");
    }
}

// Starts copying 4 bytes (or writing 4 zero bytes when !valid; src must still be a valid address).
__device__ __forceinline__ void pg_att_copy_word(uint32_t dst, const void* src, bool valid) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" :: "r"(dst), "l"(src), "r"(valid ? 4 : 0) : "memory");
}

// Starts copying 128 rows (two tiles) like pg_att_copy_tile.
__device__ __forceinline__ void pg_att_copy_block(uint32_t tiles, const pg_bf16* src, int width, int validRows,
                                                  int headDim) {
    int secondRows = validRows - PG_ATT_TILE;
    pg_att_copy_tile(tiles, src, width, validRows, headDim);
    pg_att_copy_tile(pg_att_buffer(tiles, 1), secondRows > 0 ? src + (long long)PG_ATT_TILE * width : src, width,
                     secondRows, headDim);
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

// 2^x in one MUFU.EX2; exp2f wraps it in a rescaling that keeps results below 2^-126 as subnormals, weights
// that are nothing next to the row's largest, 1. 2^-inf = 0.
__device__ __forceinline__ float pg_att_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
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

// The backward passes' start: the block's 128 rows of two tensors (row stride `width`, `validRows` of them) copied
// into two pairs of tiles, then each warp's A fragments of its 32 rows of both, kept in registers for the whole
// pass; the tiles are free for the streamed operands when it returns.
__device__ __forceinline__ void pg_att_block_fragments(uint32_t firstTiles, const pg_bf16* first, uint32_t secondTiles,
                                                       const pg_bf16* second, int width, int validRows, int headDim,
                                                       int warp, uint32_t (&firstFragments)[2][4][4],
                                                       uint32_t (&secondFragments)[2][4][4]) {
    pg_att_copy_block(firstTiles, first, width, validRows, headDim);
    pg_att_copy_block(secondTiles, second, width, validRows, headDim);
    pg_att_commit();
    pg_att_wait(0);
    __syncthreads();
#pragma unroll
    for (int m = 0; m < 2; m++) {
        pg_att_load_rows(firstTiles, 32 * warp + 16 * m, firstFragments[m]);
        pg_att_load_rows(secondTiles, 32 * warp + 16 * m, secondFragments[m]);
    }
    __syncthreads();
}

// acc[m] (16 x 8N) += A[m] (16 x 64 dims) * (tile rows [row0, row0 + 8N))^T for each of M row blocks: column j of
// the result is the dot product with tile row row0 + j. Each fragment of the tile is loaded once for all M blocks.
template <int M, int N>
__device__ __forceinline__ void pg_att_mma_rows(const uint32_t (&a)[M][4][4], uint32_t tile, int row0,
                                                float (&acc)[M][N][4]) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
#pragma unroll
        for (int np = 0; np < N / 2; np++) {
            uint32_t b[4];
            pg_att_ldmatrix(b, tile + pg_att_offset(row0 + 16 * np + (lane & 7) + ((lane >> 4) << 3),
                                                    2 * kk + ((lane >> 3) & 1)));
#pragma unroll
            for (int m = 0; m < M; m++) {
                pg_att_mma(acc[m][2 * np], a[m][kk], b[0], b[1]);
                pg_att_mma(acc[m][2 * np + 1], a[m][kk], b[2], b[3]);
            }
        }
    }
}

// acc[m] (16 x 64 dims) += P[m] (16 x 16K, A fragments) * tile rows [row0, row0 + 16K) for each of M row blocks.
template <int M, int K>
__device__ __forceinline__ void pg_att_mma_tile(const uint32_t (&p)[M][K][4], uint32_t tile, int row0,
                                                float (&acc)[M][8][4]) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int kk = 0; kk < K; kk++) {
#pragma unroll
        for (int dp = 0; dp < 4; dp++) {
            uint32_t b[4];
            pg_att_ldmatrix_trans(b, tile + pg_att_offset(row0 + 16 * kk + (lane & 15), 2 * dp + (lane >> 4)));
#pragma unroll
            for (int m = 0; m < M; m++) {
                pg_att_mma(acc[m][2 * dp], p[m][kk], b[0], b[1]);
                pg_att_mma(acc[m][2 * dp + 1], p[m][kk], b[2], b[3]);
            }
        }
    }
}

// A 16 x 8N accumulator rounded to bf16 A fragments (the accumulator's layout is the A operand's, pairwise).
template <int N>
__device__ __forceinline__ void pg_att_to_operand(const float (&acc)[N][4], uint32_t (&a)[N / 2][4]) {
#pragma unroll
    for (int kk = 0; kk < N / 2; kk++) {
        a[kk][0] = pg_att_pack(acc[2 * kk][0], acc[2 * kk][1]);
        a[kk][1] = pg_att_pack(acc[2 * kk][2], acc[2 * kk][3]);
        a[kk][2] = pg_att_pack(acc[2 * kk + 1][0], acc[2 * kk + 1][1]);
        a[kk][3] = pg_att_pack(acc[2 * kk + 1][2], acc[2 * kk + 1][3]);
    }
}

template <int M, int N>
__device__ __forceinline__ void pg_att_zero(float (&acc)[M][N][4]) {
#pragma unroll
    for (int m = 0; m < M; m++) {
#pragma unroll
        for (int nt = 0; nt < N; nt++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                acc[m][nt][i] = 0.0f;
            }
        }
    }
}

// Accumulator element i of n-tile nt sits at row (lane / 4) + 8 * (i / 2) and column 8 nt + 2 (lane % 4) + i % 2
// of the warp's 16-row block.
__device__ __forceinline__ int pg_att_row(int i) {
    return ((threadIdx.x & 31) >> 2) + ((i >> 1) << 3);
}

__device__ __forceinline__ int pg_att_col(int nt, int i) {
    return nt * 8 + ((threadIdx.x & 3) << 1) + (i & 1);
}

// The row max lags behind: it is only raised when some row's scores of a tile exceed it by more than this (in
// base-2 units), so that most tiles skip rescaling the output; the probabilities, at most 2^8, stay well inside
// float32 and bf16 and keep their relative precision.
#define PG_ATT_MAX_SLACK 8.0f

// The forward's block: two warpgroups of 64 query rows (8 warps of 16 rows) sharing key/value tiles, which stream
// through PG_ATT_FORWARD_STAGES buffers; its dynamic shared memory (CudaFlashAttention passes the size) is 1024 bytes
// of alignment slack, 2 query tiles, then the key and the value buffers.
#define PG_ATT_FORWARD_THREADS 256
#define PG_ATT_FORWARD_STAGES 3

// The forward's copies, each 16-byte chunk of the block's part taken by one of its PG_ATT_FORWARD_THREADS threads in a
// single pass (as pg_att_copy_tile: rows at or past validRows and dims at or past headDim become zeros).
__device__ __forceinline__ void pg_att_forward_copy_chunk(uint32_t tile, const pg_bf16* src, int width, int validRows,
                                                          int headDim, int row, int chunk) {
    bool valid = row < validRows && chunk * 8 < headDim;
    const pg_bf16* from = valid ? src + (long long)row * width + chunk * 8 : src;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
                 :: "r"(tile + pg_att_offset(row, chunk)), "l"(from), "r"(valid ? 16 : 0) : "memory");
}

// The block's 128 query rows into two consecutive tiles (row 64 + r of the first is row r of the second).
__device__ __forceinline__ void pg_att_forward_copy_queries(uint32_t tiles, const pg_bf16* src, int width,
                                                            int validRows, int headDim) {
    for (int e = threadIdx.x; e < PG_ATT_BLOCK_ROWS * 8; e += PG_ATT_FORWARD_THREADS) {
        pg_att_forward_copy_chunk(tiles, src, width, validRows, headDim, e >> 3, e & 7);
    }
}

// Key tile `tile` and value tile `tile` of one sequence's kv head into their buffers `buffer`.
__device__ __forceinline__ void pg_att_forward_copy_key_values(uint32_t keyTiles, uint32_t valueTiles, int buffer,
                                                               const pg_bf16* keys, const pg_bf16* values,
                                                               int kvWidth, int headDim, int seqLen, int tile) {
    long long first = (long long)tile * PG_ATT_TILE;
    for (int e = threadIdx.x; e < 2 * PG_ATT_TILE * 8; e += PG_ATT_FORWARD_THREADS) {
        bool value = e >= PG_ATT_TILE * 8;
        int chunkOfTile = value ? e - PG_ATT_TILE * 8 : e;
        pg_att_forward_copy_chunk(pg_att_buffer(value ? valueTiles : keyTiles, buffer),
                                  (value ? values : keys) + first * kvWidth, kvWidth, seqLen - (int)first, headDim,
                                  chunkOfTile >> 3, chunkOfTile & 7);
    }
}

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
// Hopper (sm_90a): the products are warpgroup MMAs (wgmma m64n64k16, asynchronous, float32 accumulators), A from
// registers (this warp's 16 rows, the mma.m16n8k16 A fragment), B read by the tensor cores straight from the
// swizzled tiles; the accumulator of each warp is laid out like the mma.m16n8k16 one over 8 column tiles.

// d (+)= A B for the warpgroup's 64 rows; TRANSB 0: B's tile rows are its columns (keys, for Q K^T), 1: its rows
// (values, for P V). !accumulate overwrites d.
template <int TRANSB>
__device__ __forceinline__ void pg_att_wgmma(float (&d)[8][4], const uint32_t (&a)[4], uint64_t descriptor,
                                             int accumulate) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
                 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
                 "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
                 "{%32, %33, %34, %35}, %36, p, 1, 1, %38;\n}\n"
                 : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                   "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                   "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                   "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                   "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                   "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                   "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                   "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descriptor), "r"(accumulate), "n"(TRANSB));
}

// Ties the accumulator registers to this point of the program: code that reads or writes them is not moved across
// a wgmma wait (or, before the MMAs, ahead of the writes they must see).
__device__ __forceinline__ void pg_att_wgmma_operand(float (&d)[8][4]) {
#pragma unroll
    for (int nt = 0; nt < 8; nt++) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            asm volatile("" : "+f"(d[nt][i])::"memory");
        }
    }
}

// Issues the MMAs queued since the last call and waits for all of them.
__device__ __forceinline__ void pg_att_wgmma_run(float (&d)[8][4]) {
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
    pg_att_wgmma_operand(d);
}

// Descriptor of a 64-row tile for wgmma, starting `address`: 128-byte swizzle (exactly pg_att_offset's pattern on a
// 1024-byte aligned tile), 1024 bytes from one group of 8 rows to the next; the leading offset is unused by 64-dim
// rows.
__device__ __forceinline__ uint64_t pg_att_descriptor(uint32_t address) {
    return (uint64_t)((address & 0x3FFFF) >> 4) | (uint64_t)1 << 16 | (uint64_t)(1024 >> 4) << 32 |
           (uint64_t)1 << 62;
}

// s = this warp's 16 rows of Q K^T against the 64 keys of keyTile (its warpgroup computes all 64 rows).
__device__ __forceinline__ void pg_att_forward_scores(const uint32_t (&qa)[4][4], uint32_t keyTile,
                                                      float (&s)[8][4]) {
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
        pg_att_wgmma<0>(s, qa[kk], pg_att_descriptor(keyTile + 32 * kk), kk);
    }
    pg_att_wgmma_run(s);
}

// o += P V over the 64 keys of valueTile.
__device__ __forceinline__ void pg_att_forward_values(const uint32_t (&pa)[4][4], uint32_t valueTile,
                                                      float (&o)[8][4]) {
    pg_att_wgmma_operand(o);
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
        pg_att_wgmma<1>(o, pa[kk], pg_att_descriptor(valueTile + 16 * 128 * kk), 1);
    }
    pg_att_wgmma_run(o);
}

// Makes this thread's finished cp.async writes visible to the tensor cores' reads (the async proxy).
__device__ __forceinline__ void pg_att_forward_tiles_visible() {
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}
#else
// Other GPUs (the compute_90 PTX): the same products per warp with mma.sync.

__device__ __forceinline__ void pg_att_forward_scores(const uint32_t (&qa)[4][4], uint32_t keyTile,
                                                      float (&s)[8][4]) {
    float (&acc)[1][8][4] = reinterpret_cast<float (&)[1][8][4]>(s);
    pg_att_zero(acc);
    pg_att_mma_rows(reinterpret_cast<const uint32_t (&)[1][4][4]>(qa), keyTile, 0, acc);
}

__device__ __forceinline__ void pg_att_forward_values(const uint32_t (&pa)[4][4], uint32_t valueTile,
                                                      float (&o)[8][4]) {
    pg_att_mma_tile(reinterpret_cast<const uint32_t (&)[1][4][4]>(pa), valueTile, 0,
                    reinterpret_cast<float (&)[1][8][4]>(o));
}

__device__ __forceinline__ void pg_att_forward_tiles_visible() {}
#endif

// One key tile of the forward for the warp's 16 rows: o += P V with P = 2^(S scaleLog2 - rowMax), rowMax (base 2,
// scaled) and rowSum kept per row. MASKED: the tile starts at the warpgroup's first row, and key column j is hidden
// from the warp's row r (its 16 rows start at warpRow of the warpgroup) when j > warpRow + r.
template <bool MASKED>
__device__ __forceinline__ void pg_att_forward_tile(const uint32_t (&qa)[4][4], uint32_t keyTile, uint32_t valueTile,
                                                    int warpRow, float scaleLog2, float (&o)[8][4],
                                                    float (&rowMax)[2], float (&rowSum)[2]) {
    float s[8][4];
    pg_att_forward_scores(qa, keyTile, s);
    float tileMax[2];
    bool raise = false;
#pragma unroll
    for (int half = 0; half < 2; half++) {
        float x = -INFINITY;
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
#pragma unroll
            for (int i = 2 * half; i < 2 * half + 2; i++) {
                if (MASKED && pg_att_col(nt, i) > warpRow + pg_att_row(i)) {
                    s[nt][i] = -INFINITY;
                }
                x = fmaxf(x, s[nt][i]);
            }
        }
        x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
        x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
        tileMax[half] = x * scaleLog2;
        raise |= tileMax[half] > rowMax[half] + PG_ATT_MAX_SLACK;
    }
    if (__any_sync(0xffffffffu, raise)) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
            float raised = fmaxf(rowMax[half], tileMax[half]);
            float correction = pg_att_exp2(rowMax[half] - raised);
            rowMax[half] = raised;
            rowSum[half] *= correction;
#pragma unroll
            for (int nt = 0; nt < 8; nt++) {
                o[nt][2 * half] *= correction;
                o[nt][2 * half + 1] *= correction;
            }
        }
    }
#pragma unroll
    for (int half = 0; half < 2; half++) {
        float sum = rowSum[half];
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
#pragma unroll
            for (int i = 2 * half; i < 2 * half + 2; i++) {
                s[nt][i] = pg_att_exp2(fmaf(s[nt][i], scaleLog2, -rowMax[half]));
                sum += s[nt][i];
            }
        }
        rowSum[half] = sum;
    }
    uint32_t pa[4][4];
    pg_att_to_operand(s, pa);
    pg_att_forward_values(pa, valueTile, o);
}

// The lower bound of the norm that F.normalize divides by (XSA's value directions).
#define PG_ATT_NORMALIZE_EPS 1e-12f

// XSA on one output row y of the forward, held by the four lanes of a quad (the accumulator's layout: lane % 4 holds
// columns pg_att_col(nt, 0) and the next, of every n-tile nt): y -= c vHat with vHat = value / max(||value||, 1e-12)
// and c = y . vHat, which it returns. valueWords: the lane's columns of the row's value vector as bf16 pairs (zeros
// past headDim and for rows past the sequence). Every lane of the warp must call it (quad shuffles).
__device__ __forceinline__ float pg_att_exclusive(float (&y)[8][2], const uint32_t (&valueWords)[8]) {
    float u[8][2];
    float squares = 0.0f;
#pragma unroll
    for (int nt = 0; nt < 8; nt++) {
        float2 x = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&valueWords[nt]));
        u[nt][0] = x.x;
        u[nt][1] = x.y;
        squares += x.x * x.x + x.y * x.y;
    }
    squares += __shfl_xor_sync(0xffffffffu, squares, 1);
    squares += __shfl_xor_sync(0xffffffffu, squares, 2);
    float inverseNorm = 1.0f / fmaxf(sqrtf(squares), PG_ATT_NORMALIZE_EPS);
    float c = 0.0f;
#pragma unroll
    for (int nt = 0; nt < 8; nt++) {
#pragma unroll
        for (int e = 0; e < 2; e++) {
            u[nt][e] *= inverseNorm;
            c += y[nt][e] * u[nt][e];
        }
    }
    c += __shfl_xor_sync(0xffffffffu, c, 1);
    c += __shfl_xor_sync(0xffffffffu, c, 2);
#pragma unroll
    for (int nt = 0; nt < 8; nt++) {
#pragma unroll
        for (int e = 0; e < 2; e++) {
            y[nt][e] -= c * u[nt][e];
        }
    }
    return c;
}

// grid (ceil(seqLen / 128), heads, batch), block PG_ATT_FORWARD_THREADS. Block x takes query block
// gridDim.x - 1 - x (the longest first) of head y of sequence z; warpgroup g its rows 64 g .. 64 g + 63, warp w of
// it rows 16 w .. 16 w + 15 of those. xsa: null for plain attention, else XSA's projections c, float32
// [rows * heads], and out gets XSA's output.
extern "C" __global__ void __launch_bounds__(PG_ATT_FORWARD_THREADS)
pg_attention_forward(const pg_bf16* q, const pg_bf16* k, const pg_bf16* v, void* out, int out_type, float* lse,
                     float* xsa, int seqLen, int heads, int kvHeads, int headDim, float scale) {
    uint32_t queryTiles = (pg_att_shared(pg_att_dynamic) + 1023u) & ~1023u;
    uint32_t keyTiles = pg_att_buffer(queryTiles, 2);
    uint32_t valueTiles = pg_att_buffer(keyTiles, PG_ATT_FORWARD_STAGES);
    int h = blockIdx.y;
    int b = blockIdx.z;
    int warpgroup = threadIdx.x >> 7;
    int warp = (threadIdx.x >> 5) & 3;
    int qWidth = heads * headDim;
    int kvWidth = kvHeads * headDim;
    int kvCol = h / (heads / kvHeads) * headDim;
    long long rowBase = (long long)b * seqLen;
    int first = (gridDim.x - 1 - blockIdx.x) * PG_ATT_BLOCK_ROWS;
    int groupFirst = first + 64 * warpgroup;
    int lastKeyTile = (min(seqLen, first + PG_ATT_BLOCK_ROWS) - 1) / PG_ATT_TILE;
    const pg_bf16* keys = k + rowBase * kvWidth + kvCol;
    const pg_bf16* values = v + rowBase * kvWidth + kvCol;

    // Copy groups: the queries with key/value tile 0, then one per tile, PG_ATT_FORWARD_STAGES - 1 tiles ahead (an
    // empty group past the last tile keeps the count of groups in flight fixed).
    pg_att_forward_copy_queries(queryTiles, q + (rowBase + first) * qWidth + h * headDim, qWidth, seqLen - first,
                                headDim);
    pg_att_forward_copy_key_values(keyTiles, valueTiles, 0, keys, values, kvWidth, headDim, seqLen, 0);
    pg_att_commit();
#pragma unroll
    for (int n = 1; n < PG_ATT_FORWARD_STAGES - 1; n++) {
        if (n <= lastKeyTile) {
            pg_att_forward_copy_key_values(keyTiles, valueTiles, n, keys, values, kvWidth, headDim, seqLen, n);
        }
        pg_att_commit();
    }

    float scaleLog2 = scale * PG_ATT_LOG2E;
    float o[8][4];
    pg_att_zero(reinterpret_cast<float (&)[1][8][4]>(o));
    float rowMax[2] = {-INFINITY, -INFINITY};
    float rowSum[2] = {0.0f, 0.0f};
    uint32_t qa[4][4];
    for (int n = 0; n <= lastKeyTile; n++) {
        int buffer = n % PG_ATT_FORWARD_STAGES;
        asm volatile("cp.async.wait_group %0;\n" :: "n"(PG_ATT_FORWARD_STAGES - 2) : "memory");
        pg_att_forward_tiles_visible();
        // After this barrier every warp is done with tile n - 1, whose buffers take tile n + STAGES - 1.
        __syncthreads();
        int ahead = n + PG_ATT_FORWARD_STAGES - 1;
        if (ahead <= lastKeyTile) {
            pg_att_forward_copy_key_values(keyTiles, valueTiles, ahead % PG_ATT_FORWARD_STAGES, keys, values, kvWidth,
                                           headDim, seqLen, ahead);
        }
        pg_att_commit();
        if (n == 0) {
            pg_att_load_rows(pg_att_buffer(queryTiles, warpgroup), 16 * warp, qa);
        }
        // Tiles and warpgroups both start at multiples of 64: a tile is wholly visible to the warpgroup's rows, or
        // starts at its first row (the diagonal, masked), or lies past them (skipped). Every row sees key 0 of tile
        // 0, so each row's running max is finite from the first tile on.
        int keyOffset = n * PG_ATT_TILE - groupFirst;
        uint32_t keyTile = pg_att_buffer(keyTiles, buffer);
        uint32_t valueTile = pg_att_buffer(valueTiles, buffer);
        if (keyOffset < 0) {
            pg_att_forward_tile<false>(qa, keyTile, valueTile, 16 * warp, scaleLog2, o, rowMax, rowSum);
        } else if (keyOffset == 0) {
            pg_att_forward_tile<true>(qa, keyTile, valueTile, 16 * warp, scaleLog2, o, rowMax, rowSum);
        }
    }

    // With XSA, the value vectors of both of the lane's rows are loaded before either is used, so that the loads are
    // in flight together rather than one row's after the previous row's reductions.
    uint32_t valueWords[2][8];
    if (xsa != nullptr) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
            int row = groupFirst + 16 * warp + pg_att_row(2 * half);
#pragma unroll
            for (int nt = 0; nt < 8; nt++) {
                int col = pg_att_col(nt, 0);
                valueWords[half][nt] = row < seqLen && col < headDim
                        ? __ldg(reinterpret_cast<const unsigned int*>(values + (long long)row * kvWidth + col))
                        : 0u;
            }
        }
    }
#pragma unroll
    for (int half = 0; half < 2; half++) {
        float sum = rowSum[half];
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
        int row = groupFirst + 16 * warp + pg_att_row(2 * half);
        bool valid = row < seqLen;
        float inverse = 1.0f / sum;
        float y[8][2];
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
            y[nt][0] = o[nt][2 * half] * inverse;
            y[nt][1] = o[nt][2 * half + 1] * inverse;
        }
        if (xsa != nullptr) {
            float c = pg_att_exclusive(y, valueWords[half]);
            if (valid && (threadIdx.x & 3) == 0) {
                xsa[(rowBase + row) * heads + h] = c;
            }
        }
        if (!valid) {
            continue;
        }
        if ((threadIdx.x & 3) == 0) {
            lse[((long long)b * heads + h) * seqLen + row] = (rowMax[half] + log2f(sum)) * PG_ATT_LN2;
        }
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
            if (pg_att_col(nt, 0) >= headDim) {
                continue;
            }
            long long i = (rowBase + row) * qWidth + h * headDim + pg_att_col(nt, 0);
            if (out_type == PG_BF16) {
                *reinterpret_cast<__nv_bfloat162*>(static_cast<pg_bf16*>(out) + i) =
                        __floats2bfloat162_rn(y[nt][0], y[nt][1]);
            } else {
                *reinterpret_cast<float2*>(static_cast<float*>(out) + i) = make_float2(y[nt][0], y[nt][1]);
            }
        }
    }
}

// The sum over the eight lanes of an aligned group (the threads of one (row, head) or (row, kv head) of the
// backward's preprocessing); every lane of the group gets it.
__device__ __forceinline__ float pg_att_part_sum(float s) {
    s += __shfl_xor_sync(0xffffffffu, s, 1);
    s += __shfl_xor_sync(0xffffffffu, s, 2);
    s += __shfl_xor_sync(0xffffffffu, s, 4);
    return s;
}

// rowDots[b, h, t] = dOut . out over the head's dims, with dOut rounded to bf16 as the products will take it; a
// float32 dOut is also written rounded into dOut16 (a bf16 dOut is its own dOut16). Eight threads per (row, head),
// eight dims each, so that every access is a vector; n = rows * heads (row, head) pairs, four per warp.
extern "C" __global__ void pg_attention_backward_dot(const void* out, int out_type, const void* dOut, int dOut_type,
                                                     pg_bf16* dOut16, float* rowDots, long long n, int seqLen,
                                                     int heads, int headDim) {
    int lane = threadIdx.x & 31;
    int part = lane & 7;
    long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
    for (long long w = warp; 4 * w < n; w += warps) {
        long long pair = 4 * w + (lane >> 3);
        float s = 0.0f;
        if (pair < n && 8 * part < headDim) {
#pragma unroll
            for (int half = 0; half < 2; half++) {
                long long i = pair * headDim + 8 * part + 4 * half;
                float g[4];
                float o[4];
                pg_load_vec<4>(dOut, dOut_type, i, g);
                pg_load_vec<4>(out, out_type, i, o);
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    g[e] = __bfloat162float(__float2bfloat16_rn(g[e]));
                    s += g[e] * o[e];
                }
                if (dOut_type != PG_BF16) {
                    pg_store_vec<4>(dOut16, PG_BF16, i, g);
                }
            }
        }
        s = pg_att_part_sum(s);
        if (part == 0 && pair < n) {
            long long row = pair / heads;
            int h = (int)(pair % heads);
            rowDots[(row / seqLen * heads + h) * seqLen + row % seqLen] = s;
        }
    }
}

// The preprocessing under XSA, where the forward stored out = y - c vHat and c (xsa): for every query head h of a
// (row, kv head) unit, with g = dOut, the gradient reaching the attention output dY = g - (g . vHat) vHat is written
// rounded into dY16 for the passes, and rowDots = dY16 . y with y rebuilt as out + c vHat. XSA's value gradient,
// du = -sum over h of ((g . vHat) y + c g) taken through vHat = v / max(||v||, 1e-12), is added into dV, every
// element once (the dK/dV pass adds its part after it). Eight threads per unit, eight dims each, so that every access
// is a vector; n = rows * kvHeads units, four per warp.
extern "C" __global__ void pg_attention_backward_xsa_dot(const void* out, int out_type, const float* xsa,
                                                         const pg_bf16* v, const void* dOut, int dOut_type,
                                                         pg_bf16* dY16, float* rowDots, void* dV, int dV_type,
                                                         long long n, int seqLen, int heads, int kvHeads,
                                                         int headDim) {
    int lane = threadIdx.x & 31;
    int part = lane & 7;
    int group = heads / kvHeads;
    long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
    for (long long w = warp; 4 * w < n; w += warps) {
        long long unit = 4 * w + (lane >> 3);
        bool active = unit < n && 8 * part < headDim;
        long long row = unit / kvHeads;
        int kv = (int)(unit % kvHeads);
        long long valueAt = unit * headDim + 8 * part;
        float u[8] = {};
        if (active) {
            pg_load_vec<8>(v, PG_BF16, valueAt, u);
        }
        float squares = 0.0f;
#pragma unroll
        for (int e = 0; e < 8; e++) {
            squares += u[e] * u[e];
        }
        float divisor = fmaxf(sqrtf(pg_att_part_sum(squares)), PG_ATT_NORMALIZE_EPS);
#pragma unroll
        for (int e = 0; e < 8; e++) {
            u[e] /= divisor;
        }
        float du[8] = {};
        for (int member = 0; member < group; member++) {
            int h = kv * group + member;
            long long pair = row * heads + h;
            long long i = pair * headDim + 8 * part;
            float g[8] = {};
            float y[8] = {};
            float c = 0.0f;
            if (active) {
                pg_load_vec<8>(dOut, dOut_type, i, g);
                pg_load_vec<8>(out, out_type, i, y);
                c = xsa[pair];
            }
            float gu = 0.0f;
#pragma unroll
            for (int e = 0; e < 8; e++) {
                gu += g[e] * u[e];
            }
            gu = pg_att_part_sum(gu);
            float s = 0.0f;
#pragma unroll
            for (int e = 0; e < 8; e++) {
                y[e] += c * u[e];
                du[e] -= gu * y[e] + c * g[e];
                g[e] = __bfloat162float(__float2bfloat16_rn(g[e] - gu * u[e]));
                s += g[e] * y[e];
            }
            if (active) {
                pg_store_vec<8>(dY16, PG_BF16, i, g);
            }
            s = pg_att_part_sum(s);
            if (part == 0 && unit < n) {
                rowDots[(row / seqLen * heads + h) * seqLen + row % seqLen] = s;
            }
        }
        float radial = 0.0f;
#pragma unroll
        for (int e = 0; e < 8; e++) {
            radial += du[e] * u[e];
        }
        radial = pg_att_part_sum(radial);
        if (active) {
#pragma unroll
            for (int e = 0; e < 8; e++) {
                du[e] = (du[e] - u[e] * (divisor > PG_ATT_NORMALIZE_EPS ? radial : 0.0f)) / divisor;
            }
            pg_accumulate_vec<8>(dV, dV_type, valueAt, du);
        }
    }
}

// Floats per row of a warp's staging area for pg_att_add_rows: 64 dims and 4 of padding, so that neither the
// fragment-shaped writes nor the row reads of 16 bytes meet the same bank more than twice.
#define PG_ATT_STAGING_STRIDE 68

// The warp's two 16-row accumulators times `scale`, added into rows [row0, row0 + 32) of a head of headDim dims
// (row stride `width`, column `col`) in p's type, rows at or past `validRows` skipped. They pass through the warp's
// 32 rows of `staging` in shared memory, so that lane r adds row r whole, eight values per access at fixed offsets:
// its reads of p (when p is not a pending zero) are in flight together. With the rows of every warp the pass writes
// each element of p once, so a pending-zero p is stored, not read (pg_accumulate_vec).
__device__ __forceinline__ void pg_att_add_rows(void* p, int type, long long row0, int width, int col, int headDim,
                                                int validRows, const float (&acc)[2][8][4], float scale,
                                                float* staging) {
    int lane = threadIdx.x & 31;
    __syncwarp();
#pragma unroll
    for (int m = 0; m < 2; m++) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
#pragma unroll
            for (int nt = 0; nt < 8; nt++) {
                *reinterpret_cast<float2*>(staging + (16 * m + pg_att_row(2 * half)) * PG_ATT_STAGING_STRIDE +
                                           pg_att_col(nt, 0)) =
                        make_float2(acc[m][nt][2 * half] * scale, acc[m][nt][2 * half + 1] * scale);
            }
        }
    }
    __syncwarp();
    if (lane >= validRows) {
        return;
    }
    const float* row = staging + lane * PG_ATT_STAGING_STRIDE;
    long long first = (row0 + lane) * width + col;
#pragma unroll
    for (int c = 0; c < PG_ATT_DIM; c += 8) {
        if (c < headDim) {
            float values[8];
            *reinterpret_cast<float4*>(values) = *reinterpret_cast<const float4*>(row + c);
            *reinterpret_cast<float4*>(values + 4) = *reinterpret_cast<const float4*>(row + c + 4);
            pg_accumulate_vec<8>(p, type, first + c, values);
        }
    }
}

// The warp's staging area for pg_att_add_rows in the block's dynamic shared memory, free once a pass's loop is done
// (4 warps of 32 rows of PG_ATT_STAGING_STRIDE floats: 34 KB of either pass's 64 KB).
__device__ __forceinline__ float* pg_att_staging() {
    return reinterpret_cast<float*>(pg_att_dynamic) + (threadIdx.x >> 5) * 32 * PG_ATT_STAGING_STRIDE;
}

// Starts copying one query block of the dK/dV pass into buffer `buffer`: the 128 queries and output gradients of
// head h from row first on, and their statistics, lse and D. Rows past the sequence are all zeros, so their
// probabilities, exp(q . k - 0) = 1, meet zero output gradients and contribute nothing.
__device__ __forceinline__ void pg_att_load_query_block(uint32_t queryTiles, uint32_t gradTiles,
                                                        float (*statistics)[2][PG_ATT_BLOCK_ROWS], int buffer,
                                                        const pg_bf16* q, const pg_bf16* dOut, const float* lse,
                                                        const float* rowDots, long long rowBase, int b, int h,
                                                        int heads, int headDim, int first, int seqLen) {
    static_assert(PG_ATT_THREADS == PG_ATT_BLOCK_ROWS, "one thread per query of a block");
    int qWidth = heads * headDim;
    long long offset = (rowBase + first) * qWidth + h * headDim;
    pg_att_copy_block(pg_att_buffer(queryTiles, 2 * buffer), q + offset, qWidth, seqLen - first, headDim);
    pg_att_copy_block(pg_att_buffer(gradTiles, 2 * buffer), dOut + offset, qWidth, seqLen - first, headDim);
    int r = threadIdx.x;
    bool valid = first + r < seqLen;
    long long at = ((long long)b * heads + h) * seqLen + (valid ? first + r : 0);
    pg_att_copy_word(pg_att_shared(&statistics[buffer][0][r]), lse + at, valid);
    pg_att_copy_word(pg_att_shared(&statistics[buffer][1][r]), rowDots + at, valid);
}

// The two products a backward step starts from, for the warp's 32 rows and the tiles' columns
// [column, column + 16): scores = a . firstTile rows and gradients = b . secondTile rows (the dK/dV pass's S^T and
// dP^T, the dQ pass's S and dP).
__device__ __forceinline__ void pg_att_step_products(const uint32_t (&a)[2][4][4], const uint32_t (&b)[2][4][4],
                                                     uint32_t firstTile, uint32_t secondTile, int column,
                                                     float (&scores)[2][2][4], float (&gradients)[2][2][4]) {
    pg_att_zero(scores);
    pg_att_zero(gradients);
    pg_att_mma_rows(a, firstTile, column, scores);
    pg_att_mma_rows(b, secondTile, column, gradients);
}

// One step of the dK/dV pass for the warp's 32 keys and the query block's columns [column, column + 16): the
// transposed probabilities P^T and their gradient dP^T = V dO^T, then dV += P^T dO, dK += dS^T Q (unscaled).
// warpKey is the warp's first key counted from the block's first query; key row r is hidden from query column j when
// MASKED and warpKey + r > j.
template <bool MASKED>
__device__ __forceinline__ void pg_att_dkdv_step(const uint32_t (&ka)[2][4][4], const uint32_t (&va)[2][4][4],
                                                 uint32_t queryTile, uint32_t gradTile, const float* blockLse,
                                                 const float* blockDots, int column, int warpKey, float scaleLog2,
                                                 float (&dk)[2][8][4], float (&dv)[2][8][4]) {
    float p[2][2][4];
    float ds[2][2][4];
    pg_att_step_products(ka, va, queryTile, gradTile, column, p, ds);
    float2 columnLse[2];
    float2 columnDots[2];
#pragma unroll
    for (int nt = 0; nt < 2; nt++) {
        columnLse[nt] = *reinterpret_cast<const float2*>(blockLse + column + pg_att_col(nt, 0));
        columnLse[nt].x *= PG_ATT_LOG2E;
        columnLse[nt].y *= PG_ATT_LOG2E;
        columnDots[nt] = *reinterpret_cast<const float2*>(blockDots + column + pg_att_col(nt, 0));
    }
#pragma unroll
    for (int m = 0; m < 2; m++) {
#pragma unroll
        for (int nt = 0; nt < 2; nt++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                float l = (i & 1) ? columnLse[nt].y : columnLse[nt].x;
                float d = (i & 1) ? columnDots[nt].y : columnDots[nt].x;
                float x = pg_att_exp2(fmaf(p[m][nt][i], scaleLog2, -l));
                if (MASKED && warpKey + 16 * m + pg_att_row(i) > column + pg_att_col(nt, i)) {
                    x = 0.0f;
                }
                p[m][nt][i] = x;
                ds[m][nt][i] = x * (ds[m][nt][i] - d);
            }
        }
    }
    uint32_t operand[2][1][4];
    pg_att_to_operand(p[0], operand[0]);
    pg_att_to_operand(p[1], operand[1]);
    pg_att_mma_tile(operand, gradTile, column, dv);
    pg_att_to_operand(ds[0], operand[0]);
    pg_att_to_operand(ds[1], operand[1]);
    pg_att_mma_tile(operand, queryTile, column, dk);
}

// grid (ceil(seqLen / 128), kvHeads, batch), block 128, 66 KB of dynamic shared memory. Block x
// owns key block x of kv head y of sequence z (the longest first) and visits the query blocks of 128 from its first
// key on, of every query head of the group; warp w owns keys 32 w .. 32 w + 31 and keeps their dK, dV in registers,
// working on transposed scores S^T = K Q^T, 16 queries at a time.
extern "C" __global__ void __launch_bounds__(PG_ATT_THREADS)
pg_attention_backward_dkdv(const pg_bf16* q, const pg_bf16* k, const pg_bf16* v, const float* lse,
                           const float* rowDots, const pg_bf16* dOut, void* dK, int dK_type, void* dV, int dV_type,
                           int seqLen, int heads, int kvHeads, int headDim, float scale) {
    // Two buffers of a query block and two of its output gradients, two tiles each, then the blocks' statistics;
    // keys and values pass through the first buffers into registers first.
    uint32_t queryTiles = pg_att_shared(pg_att_dynamic);
    uint32_t gradTiles = pg_att_buffer(queryTiles, 4);
    float (*statistics)[2][PG_ATT_BLOCK_ROWS] =
            reinterpret_cast<float (*)[2][PG_ATT_BLOCK_ROWS]>(pg_att_dynamic + 8 * PG_ATT_TILE_BYTES);
    int kv = blockIdx.y;
    int b = blockIdx.z;
    int warp = threadIdx.x >> 5;
    int kvWidth = kvHeads * headDim;
    int group = heads / kvHeads;
    long long rowBase = (long long)b * seqLen;
    int keyFirst = blockIdx.x * PG_ATT_BLOCK_ROWS;
    int queryBlocks = gridDim.x - blockIdx.x;
    int steps = group * queryBlocks;

    long long kvOffset = (rowBase + keyFirst) * kvWidth + kv * headDim;
    uint32_t ka[2][4][4];
    uint32_t va[2][4][4];
    pg_att_block_fragments(queryTiles, k + kvOffset, gradTiles, v + kvOffset, kvWidth, seqLen - keyFirst, headDim,
                           warp, ka, va);
    pg_att_load_query_block(queryTiles, gradTiles, statistics, 0, q, dOut, lse, rowDots, rowBase, b, kv * group, heads,
                            headDim, keyFirst, seqLen);
    pg_att_commit();

    float scaleLog2 = scale * PG_ATT_LOG2E;
    float dk[2][8][4];
    float dv[2][8][4];
    pg_att_zero(dk);
    pg_att_zero(dv);
    for (int step = 0; step < steps; step++) {
        int buffer = step & 1;
        if (step + 1 < steps) {
            pg_att_load_query_block(queryTiles, gradTiles, statistics, buffer ^ 1, q, dOut, lse, rowDots, rowBase, b,
                                    kv * group + (step + 1) / queryBlocks, heads, headDim,
                                    keyFirst + (step + 1) % queryBlocks * PG_ATT_BLOCK_ROWS, seqLen);
            pg_att_commit();
            pg_att_wait(1);
        } else {
            pg_att_wait(0);
        }
        __syncthreads();
        uint32_t queryTile = pg_att_buffer(queryTiles, 2 * buffer);
        uint32_t gradTile = pg_att_buffer(gradTiles, 2 * buffer);
        const float* blockLse = statistics[buffer][0];
        const float* blockDots = statistics[buffer][1];
        // The warp's first key counted from the block's first query; key row r sees query column j when r <= j.
        int warpKey = warp * 32 - step % queryBlocks * PG_ATT_BLOCK_ROWS;
        if (warpKey + 31 <= 0) {
            // Four steps at a time: measured faster than two (H100, record shape: 2.475 against 2.521 ms for the
            // whole backward with bf16 gradients); all eight was slower than two.
#pragma unroll 4
            for (int column = 0; column < PG_ATT_BLOCK_ROWS; column += PG_ATT_STEP) {
                pg_att_dkdv_step<false>(ka, va, queryTile, gradTile, blockLse, blockDots, column, warpKey, scaleLog2,
                                        dk, dv);
            }
        } else {
#pragma unroll
            for (int column = 0; column < PG_ATT_BLOCK_ROWS; column += PG_ATT_STEP) {
                if (warpKey <= column + PG_ATT_STEP - 1) {
                    pg_att_dkdv_step<true>(ka, va, queryTile, gradTile, blockLse, blockDots, column, warpKey,
                                           scaleLog2, dk, dv);
                }
            }
        }
        __syncthreads();
    }
    long long keyRow0 = rowBase + keyFirst + warp * 32;
    int validRows = seqLen - keyFirst - warp * 32;
    pg_att_add_rows(dK, dK_type, keyRow0, kvWidth, kv * headDim, headDim, validRows, dk, scale, pg_att_staging());
    pg_att_add_rows(dV, dV_type, keyRow0, kvWidth, kv * headDim, headDim, validRows, dv, 1.0f, pg_att_staging());
}

// One step of the dQ pass for the warp's 32 rows and the key block's columns [column, column + 16): P and
// dP = dO V^T, then dQ += dS K (unscaled). Key column j is hidden from row r when MASKED and keyOffset + j > r.
template <bool MASKED>
__device__ __forceinline__ void pg_att_dq_step(const uint32_t (&qa)[2][4][4], const uint32_t (&ga)[2][4][4],
                                               uint32_t keyTile, uint32_t valueTile, const float (&rowLse)[2][2],
                                               const float (&rowDot)[2][2], int column, int keyOffset,
                                               float scaleLog2, float (&dq)[2][8][4]) {
    float p[2][2][4];
    float ds[2][2][4];
    pg_att_step_products(qa, ga, keyTile, valueTile, column, p, ds);
#pragma unroll
    for (int m = 0; m < 2; m++) {
#pragma unroll
        for (int nt = 0; nt < 2; nt++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                float x = pg_att_exp2(fmaf(p[m][nt][i], scaleLog2, -rowLse[m][i >> 1]));
                if (MASKED && keyOffset + column + pg_att_col(nt, i) > 16 * m + pg_att_row(i)) {
                    x = 0.0f;
                }
                ds[m][nt][i] = x * (ds[m][nt][i] - rowDot[m][i >> 1]);
            }
        }
    }
    uint32_t operand[2][1][4];
    pg_att_to_operand(ds[0], operand[0]);
    pg_att_to_operand(ds[1], operand[1]);
    pg_att_mma_tile(operand, keyTile, column, dq);
}

// grid (ceil(seqLen / 128), heads, batch), block 128, 64 KB of dynamic shared memory. Block x owns
// query block gridDim.x - 1 - x of head y of sequence z and visits the key blocks of 128 up to its last query; warp w
// owns rows 32 w .. 32 w + 31 and keeps their dQ, 16 keys at a time.
extern "C" __global__ void __launch_bounds__(PG_ATT_THREADS)
pg_attention_backward_dq(const pg_bf16* q, const pg_bf16* k, const pg_bf16* v, const float* lse,
                         const float* rowDots, const pg_bf16* dOut, void* dQ, int dQ_type, int seqLen, int heads,
                         int kvHeads, int headDim, float scale) {
    // Two buffers of a key block and two of its values, two tiles each; queries and output gradients pass through
    // the first buffers into registers first.
    uint32_t keyTiles = pg_att_shared(pg_att_dynamic);
    uint32_t valueTiles = pg_att_buffer(keyTiles, 4);
    int h = blockIdx.y;
    int b = blockIdx.z;
    int warp = threadIdx.x >> 5;
    int qWidth = heads * headDim;
    int kvWidth = kvHeads * headDim;
    int kvCol = h / (heads / kvHeads) * headDim;
    long long rowBase = (long long)b * seqLen;
    int queryBlock = gridDim.x - 1 - blockIdx.x;
    int first = queryBlock * PG_ATT_BLOCK_ROWS;
    const pg_bf16* keys = k + rowBase * kvWidth + kvCol;
    const pg_bf16* values = v + rowBase * kvWidth + kvCol;

    long long queryOffset = (rowBase + first) * qWidth + h * headDim;
    uint32_t qa[2][4][4];
    uint32_t ga[2][4][4];
    pg_att_block_fragments(keyTiles, q + queryOffset, valueTiles, dOut + queryOffset, qWidth, seqLen - first,
                           headDim, warp, qa, ga);
    pg_att_copy_block(keyTiles, keys, kvWidth, seqLen, headDim);
    pg_att_copy_block(valueTiles, values, kvWidth, seqLen, headDim);
    pg_att_commit();

    float rowLse[2][2];
    float rowDot[2][2];
    long long statBase = ((long long)b * heads + h) * seqLen;
#pragma unroll
    for (int m = 0; m < 2; m++) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
            int row = first + warp * 32 + 16 * m + pg_att_row(2 * half);
            bool valid = row < seqLen;
            rowLse[m][half] = valid ? lse[statBase + row] * PG_ATT_LOG2E : INFINITY;
            rowDot[m][half] = valid ? rowDots[statBase + row] : 0.0f;
        }
    }

    float scaleLog2 = scale * PG_ATT_LOG2E;
    float dq[2][8][4];
    pg_att_zero(dq);
    for (int n = 0; n <= queryBlock; n++) {
        int buffer = n & 1;
        if (n < queryBlock) {
            long long next = (long long)(n + 1) * PG_ATT_BLOCK_ROWS;
            pg_att_copy_block(pg_att_buffer(keyTiles, 2 * (buffer ^ 1)), keys + next * kvWidth, kvWidth,
                              seqLen - (int)next, headDim);
            pg_att_copy_block(pg_att_buffer(valueTiles, 2 * (buffer ^ 1)), values + next * kvWidth, kvWidth,
                              seqLen - (int)next, headDim);
            pg_att_commit();
            pg_att_wait(1);
        } else {
            pg_att_wait(0);
        }
        __syncthreads();
        uint32_t keyTile = pg_att_buffer(keyTiles, 2 * buffer);
        uint32_t valueTile = pg_att_buffer(valueTiles, 2 * buffer);
        // Key column j of this block is key keyOffset + j counted from the warp's first row; row r of the warp sees
        // it when keyOffset + j <= r.
        int keyOffset = (n - queryBlock) * PG_ATT_BLOCK_ROWS - warp * 32;
        if (keyOffset + PG_ATT_BLOCK_ROWS - 1 <= 0) {
            // Two steps at a time: unrolling all eight spills registers.
#pragma unroll 2
            for (int column = 0; column < PG_ATT_BLOCK_ROWS; column += PG_ATT_STEP) {
                pg_att_dq_step<false>(qa, ga, keyTile, valueTile, rowLse, rowDot, column, keyOffset, scaleLog2, dq);
            }
        } else {
#pragma unroll
            for (int column = 0; column < PG_ATT_BLOCK_ROWS; column += PG_ATT_STEP) {
                if (keyOffset + column <= 31) {
                    pg_att_dq_step<true>(qa, ga, keyTile, valueTile, rowLse, rowDot, column, keyOffset, scaleLog2,
                                         dq);
                }
            }
        }
        __syncthreads();
    }
    pg_att_add_rows(dQ, dQ_type, rowBase + first + warp * 32, qWidth, h * headDim, headDim,
                    seqLen - first - warp * 32, dq, scale, pg_att_staging());
}
