// Causal grouped-query flash attention for head_dim <= 64 (io.pgolf.gpu.cuda.CudaFlashAttention), FlashAttention-2
// style on bf16 tensor cores (float32 accumulators), one operand streamed in tiles of 64 rows through swizzled
// shared-memory buffers with cp.async. Every kernel's block is two warpgroups that own 128 rows (queries, or keys in
// the backward's dK/dV pass), 64 each, and share the streamed tiles; each warp holds 16 of its warpgroup's rows. The
// dK/dV pass's block has a third warpgroup that only copies the streamed tiles (warp specialization). On
// Hopper the products are warpgroup MMAs (wgmma), the block's own rows from registers or shared memory and the
// streamed tiles read by the tensor cores straight from shared memory; other GPUs run the same loops with mma.sync
// per warp. Tiles above the causal diagonal are never visited (tiles and warpgroups both start at multiples of 64, so
// a tile is wholly visible to a warpgroup, or its diagonal, or hidden), and only the diagonal takes the
// element-by-element mask (the other tiles run a code path without it).
//
// Forward: online softmax in float32 (base 2, the scale folded into log2 e; the running max rises lazily, see
// PG_ATT_MAX_SLACK), log-sum-exp saved per row; with XSA, the epilogue stores out = y - c vHat instead of the output y
// (vHat the row's value of the kv head, normalized) and saves c per (row, head).
// Backward, deterministic (no float atomics): D = rowsum(dO * O) (with XSA, dO is first taken through XSA's backward
// and O rebuilt as out + c vHat, and XSA's value gradient goes into dV); one pass over query tiles keeps dK and dV in
// registers over every query head of the kv group, one pass over key tiles keeps dQ; both recompute the probabilities
// from the log-sum-exp. Gradients are added into dQ, dK, dV in their own types.
//
// q, k, v, dO are bf16 [rows, heads * headDim] / [rows, kvHeads * headDim] (the Java side converts float32 ones
// first; headDim is a multiple of 8, at most 64); every kernel addresses each operand's rows through its own row
// stride. out and the gradients are (pointer, dtype) pairs, see pgolf.cuh; log-sum-exp and D are float32
// [batch, heads, seqLen].
#include "pgolf.cuh"
#include "pgolf_vec.cuh"
#include "pgolf_hopper.cuh"

// Dims of a shared-memory tile row: a head of headDim < 64 (a multiple of 8) is padded with zeros, which add nothing
// to q . k and produce output columns that are never stored.
#define PG_ATT_DIM 64
#define PG_ATT_TILE 64
// Rows a block owns: two warpgroups of 64 (8 warps of 16).
#define PG_ATT_BLOCK_ROWS 128
#define PG_ATT_THREADS 256
// Buffers of the streamed tiles: copies run two tiles ahead of the products.
#define PG_ATT_STAGES 3
#define PG_ATT_TILE_ELEMENTS (PG_ATT_TILE * PG_ATT_DIM)
#define PG_ATT_TILE_BYTES (PG_ATT_TILE_ELEMENTS * 2)
#define PG_ATT_LOG2E 1.4426950408889634f
#define PG_ATT_LN2 0.6931471805599453f

typedef __nv_bfloat16 pg_bf16;

// Every kernel's shared memory, over the 48 KB a static array may take: 1024 bytes of slack to align the tiles for
// the tensor cores, then tiles of 64 rows of 64 dims (and in the dK/dV pass the query tiles' statistics);
// CudaFlashAttention passes the sizes.
extern __shared__ __align__(128) unsigned char pg_att_dynamic[];

// A tile is 64 rows of 128 bytes (eight 16-byte chunks). Chunk c of row r is stored at chunk c ^ (r % 8), so the
// eight row addresses of one ldmatrix 8x8 matrix (same chunk, consecutive rows) fall in eight different banks; on a
// 1024-byte aligned tile this is also wgmma's 128-byte swizzle.
__device__ __forceinline__ uint32_t pg_att_offset(int row, int chunk) {
    return (uint32_t)(row * 128 + ((chunk ^ (row & 7)) << 4));
}

__device__ __forceinline__ uint32_t pg_att_shared(const void* p) {
    return (uint32_t)__cvta_generic_to_shared(p);
}

// The first tile of the block's dynamic shared memory, 1024-byte aligned.
__device__ __forceinline__ uint32_t pg_att_tiles() {
    return (pg_att_shared(pg_att_dynamic) + 1023u) & ~1023u;
}

// Tile i of consecutive tiles starting at shared address `first`.
__device__ __forceinline__ uint32_t pg_att_buffer(uint32_t first, int i) {
    return first + (uint32_t)(i * PG_ATT_TILE_BYTES);
}

// Starts copying 16 bytes (or writing 16 zero bytes when !valid; src must still be a valid address).
__device__ __forceinline__ void pg_att_copy_16(uint32_t dst, const void* src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
                 :: "r"(dst), "l"(src), "r"(valid ? 16 : 0) : "memory");
}

// Starts copying 16-byte chunk `chunk` of row `row` of one head (row stride `stride` elements, from `src`) into
// consecutive tiles from `tiles` (row 64 + r of the first tile is row r of the second); a row at or past `validRows`,
// or dims at or past headDim, become zeros (src must still be a valid address). Completion through
// cp.async.commit/wait.
__device__ __forceinline__ void pg_att_copy_chunk(uint32_t tiles, const pg_bf16* src, int stride, int validRows,
                                                  int headDim, int row, int chunk) {
    bool valid = row < validRows && chunk * 8 < headDim;
    pg_att_copy_16(tiles + pg_att_offset(row, chunk), valid ? src + (long long)row * stride + chunk * 8 : src, valid);
}

// Starts copying the block's 128 rows of one head into two consecutive tiles, taken by the THREADS threads from
// thread 0 on.
template <int THREADS>
__device__ __forceinline__ void pg_att_copy_block_rows(uint32_t tiles, const pg_bf16* src, int stride, int validRows,
                                                       int headDim) {
    for (int e = threadIdx.x; e < PG_ATT_BLOCK_ROWS * 8; e += THREADS) {
        pg_att_copy_chunk(tiles, src, stride, validRows, headDim, e >> 3, e & 7);
    }
}

// Starts copying one tile of 64 rows of each of two operands (the first from `first` into firstTile, the second from
// `second` into secondTile), taken by the THREADS threads from thread 0 on, the same number of chunks each. A block's
// threads all copying unroll the passes; the dK/dV pass's producer warpgroup (fewer threads, 40 registers) loops
// over them, as unrolled they spill.
template <int THREADS>
__device__ __forceinline__ void pg_att_copy_tile_pair(uint32_t firstTile, const pg_bf16* first, int firstStride,
                                                      uint32_t secondTile, const pg_bf16* second, int secondStride,
                                                      int validRows, int headDim) {
    static_assert(2 * PG_ATT_TILE * 8 % THREADS == 0, "the same number of chunks per thread");
    constexpr int passes = 2 * PG_ATT_TILE * 8 / THREADS;
    constexpr int unrolled = THREADS < PG_ATT_THREADS ? 1 : passes;
#pragma unroll unrolled
    for (int pass = 0; pass < passes; pass++) {
        int e = threadIdx.x + pass * THREADS;
        bool isSecond = e >= PG_ATT_TILE * 8;
        int chunkOfTile = isSecond ? e - PG_ATT_TILE * 8 : e;
        pg_att_copy_chunk(isSecond ? secondTile : firstTile, isSecond ? second : first,
                          isSecond ? secondStride : firstStride, validRows, headDim, chunkOfTile >> 3,
                          chunkOfTile & 7);
    }
}

// Starts copying 4 bytes (or writing 4 zero bytes when !valid; src must still be a valid address).
__device__ __forceinline__ void pg_att_copy_word(uint32_t dst, const void* src, bool valid) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" :: "r"(dst), "l"(src), "r"(valid ? 4 : 0) : "memory");
}

__device__ __forceinline__ void pg_att_commit() {
    asm volatile("cp.async.commit_group;\n" ::: "memory");
}

// Waits until the copies of the tile the loop is about to use have landed: at most PG_ATT_STAGES - 2 younger copy
// groups of this thread are still in flight.
__device__ __forceinline__ void pg_att_wait_stage() {
    asm volatile("cp.async.wait_group %0;\n" :: "n"(PG_ATT_STAGES - 2) : "memory");
}

__device__ __forceinline__ void pg_att_ldmatrix(uint32_t (&r)[4], uint32_t address) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(address) : "memory");
}

__device__ __forceinline__ void pg_att_ldmatrix_trans(uint32_t (&r)[4], uint32_t address) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(address) : "memory");
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

// The warp's A fragments (mma.m16n8k16 layout) of tile rows [row0, row0 + 16) over the 64 dims, one per 16-dim step.
__device__ __forceinline__ void pg_att_load_rows(uint32_t tile, int row0, uint32_t (&a)[4][4]) {
    int lane = threadIdx.x & 31;
    int row = row0 + (lane & 15);
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
        pg_att_ldmatrix(a[kk], tile + pg_att_offset(row, 2 * kk + (lane >> 4)));
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

template <int N>
__device__ __forceinline__ void pg_att_zero(float (&acc)[N][4]) {
#pragma unroll
    for (int nt = 0; nt < N; nt++) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            acc[nt][i] = 0.0f;
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

// The block products, for the warp's 16 rows of its warpgroup's 64: pg_att_start_row_dots (acc = A tile^T over 8N
// columns, column j the dot products with tile row j; A from registers, or the rows of a tile holding the
// warpgroup's 64) and pg_att_start_tile_product (acc += A tile, A's 16K columns against the tile's first 16K rows)
// start one, pg_att_finish<PENDING>(acc) waits until at most PENDING of the products started since are still
// running, acc's among the finished ones, and makes acc readable.
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
// Hopper (sm_90a): warpgroup MMAs (wgmma m64n64k16 or m64n32k16, asynchronous, float32 accumulators), A from
// registers (the mma.m16n8k16 A fragment) or a tile, B read by the tensor cores straight from the swizzled tiles; the
// accumulator of each warp is laid out like the mma.m16n8k16 one over its column tiles of 8. Each start is one commit
// group, so two products can run while the warp works on a third's result.

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

// d (+)= A B for the warpgroup's 64 rows, A too read from a tile (its rows, dims contiguous) through a descriptor.
template <int TRANSB>
__device__ __forceinline__ void pg_att_wgmma_shared(float (&d)[8][4], uint64_t aDescriptor, uint64_t bDescriptor,
                                                    int accumulate) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
                 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
                 "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, "
                 "%32, %33, p, 1, 1, 0, %35;\n}\n"
                 : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                   "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                   "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                   "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                   "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                   "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                   "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                   "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3])
                 : "l"(aDescriptor), "l"(bDescriptor), "r"(accumulate), "n"(TRANSB));
}

// d (+)= A B over 32 columns (m64n32k16), both operands read from tiles through descriptors.
__device__ __forceinline__ void pg_att_wgmma_shared(float (&d)[4][4], uint64_t aDescriptor, uint64_t bDescriptor,
                                                    int accumulate) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %18, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 "
                 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15}, "
                 "%16, %17, p, 1, 1, 0, 0;\n}\n"
                 : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                   "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                   "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                   "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3])
                 : "l"(aDescriptor), "l"(bDescriptor), "r"(accumulate));
}

__device__ __forceinline__ void pg_att_start_row_dots(const uint32_t (&a)[4][4], uint32_t tile, float (&acc)[8][4]) {
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
        pg_att_wgmma<0>(acc, a[kk], pg_wgmma_descriptor(tile + 32 * kk), kk);
    }
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

__device__ __forceinline__ void pg_att_start_row_dots(uint32_t rowTile, uint32_t tile, float (&acc)[8][4]) {
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
        pg_att_wgmma_shared<0>(acc, pg_wgmma_descriptor(rowTile + 32 * kk), pg_wgmma_descriptor(tile + 32 * kk), kk);
    }
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

// acc = A (the warpgroup's rows of rowTile) times the first 32 rows of tile, transposed.
__device__ __forceinline__ void pg_att_start_row_dots(uint32_t rowTile, uint32_t tile, float (&acc)[4][4]) {
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
        pg_att_wgmma_shared(acc, pg_wgmma_descriptor(rowTile + 32 * kk), pg_wgmma_descriptor(tile + 32 * kk), kk);
    }
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

template <int K>
__device__ __forceinline__ void pg_att_start_tile_product(const uint32_t (&a)[K][4], uint32_t tile,
                                                          float (&acc)[8][4]) {
    pg_wgmma_pin(acc);
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
    for (int kk = 0; kk < K; kk++) {
        pg_att_wgmma<1>(acc, a[kk], pg_wgmma_descriptor(tile + 16 * 128 * kk), 1);
    }
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

template <int PENDING, int N>
__device__ __forceinline__ void pg_att_finish(float (&acc)[N][4]) {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" :: "n"(PENDING) : "memory");
    pg_wgmma_pin(acc);
}

// Makes this thread's finished cp.async writes visible to the tensor cores' reads (the async proxy).
__device__ __forceinline__ void pg_att_tiles_visible() {
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
}
#else
// Other GPUs (the compute_90 PTX): mma.sync m16n8k16 per warp, each product finished when its start returns.

// c (16x8, f32) += a (16x16, bf16, row-major fragment) * b (16x8, bf16, column fragment).
__device__ __forceinline__ void pg_att_mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
                 "{%0, %1, %2, %3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <int N>
__device__ __forceinline__ void pg_att_start_row_dots(const uint32_t (&a)[4][4], uint32_t tile, float (&acc)[N][4]) {
    int lane = threadIdx.x & 31;
    pg_att_zero(acc);
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
#pragma unroll
        for (int np = 0; np < N / 2; np++) {
            uint32_t b[4];
            pg_att_ldmatrix(b, tile + pg_att_offset(16 * np + (lane & 7) + ((lane >> 4) << 3),
                                                    2 * kk + ((lane >> 3) & 1)));
            pg_att_mma(acc[2 * np], a[kk], b[0], b[1]);
            pg_att_mma(acc[2 * np + 1], a[kk], b[2], b[3]);
        }
    }
}

template <int N>
__device__ __forceinline__ void pg_att_start_row_dots(uint32_t rowTile, uint32_t tile, float (&acc)[N][4]) {
    uint32_t a[4][4];
    pg_att_load_rows(rowTile, 16 * ((threadIdx.x >> 5) & 3), a);
    pg_att_start_row_dots(a, tile, acc);
}

template <int K>
__device__ __forceinline__ void pg_att_start_tile_product(const uint32_t (&a)[K][4], uint32_t tile,
                                                          float (&acc)[8][4]) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int kk = 0; kk < K; kk++) {
#pragma unroll
        for (int dp = 0; dp < 4; dp++) {
            uint32_t b[4];
            pg_att_ldmatrix_trans(b, tile + pg_att_offset(16 * kk + (lane & 15), 2 * dp + (lane >> 4)));
            pg_att_mma(acc[2 * dp], a[kk], b[0], b[1]);
            pg_att_mma(acc[2 * dp + 1], a[kk], b[2], b[3]);
        }
    }
}

template <int PENDING, int N>
__device__ __forceinline__ void pg_att_finish(float (&)[N][4]) {}

__device__ __forceinline__ void pg_att_tiles_visible() {}
#endif

// A block's (PG_ATT_THREADS) copies of key tile t and value tile t of one sequence's kv head into their buffers:
// thread x takes 16-byte chunk x % 8 of rows x / 8 and x / 8 + 32 of both, so that its addresses, worked out once
// here, only advance by a tile's rows from one tile to the next. Against every address computed per tile (about 75
// of the forward's 400 instructions per tile and thread): forward 0.647 against 0.697 ms (faster in 11 of 12 rounds),
// dQ pass 0.722 against 0.809 ms (H100 lab, record shape, 12 interleaved rounds; results bitwise the same at seven
// shapes, on both paths); the forward's spills fell from 64 to 8 bytes (mma.sync path: 112 to 48, dQ 144 to 40).
struct pg_att_key_value_copy {
    // Row r, chunk c of tile 0 of the keys and of the values; for a thread all of whose copies write zeros (chunk
    // past headDim, or row past a sequence shorter than 32), chunk 0 of row 0: every zero-filling copy reads from
    // here, an address that must exist.
    const pg_bf16* keys;
    const pg_bf16* values;
    // Elements from a row to the same row of the next tile.
    long long tileStride;
    // Elements from row r to row r + 32.
    int halfTileStride;
    uint32_t offset;
    // r, or past every tile when all of the thread's copies write zeros.
    int row;

    // keys, values: row 0 of one sequence's kv head; both have rows of `stride` elements.
    __device__ __forceinline__ pg_att_key_value_copy(const pg_bf16* keys, const pg_bf16* values, int stride,
                                                     int headDim, int seqLen) {
        int chunk = threadIdx.x & 7;
        int r = threadIdx.x >> 3;
        bool copies = chunk * 8 < headDim && r < seqLen;
        long long from = copies ? (long long)r * stride + chunk * 8 : 0;
        this->keys = keys + from;
        this->values = values + from;
        tileStride = (long long)PG_ATT_TILE * stride;
        halfTileStride = PG_ATT_TILE / 2 * stride;
        offset = pg_att_offset(r, chunk);
        row = copies ? r : 1 << 30;
    }

    // Starts copying key and value tile `tile` into buffers `buffer`; rows at or past seqLen become zeros.
    __device__ __forceinline__ void start(uint32_t keyTiles, uint32_t valueTiles, int buffer, int tile,
                                          int seqLen) const {
        int rowsLeft = seqLen - tile * PG_ATT_TILE;
        bool first = row < rowsLeft;
        bool second = row + PG_ATT_TILE / 2 < rowsLeft;
        long long at = tile * tileStride;
        uint32_t keyAt = pg_att_buffer(keyTiles, buffer) + offset;
        uint32_t valueAt = pg_att_buffer(valueTiles, buffer) + offset;
        // Row r + 32 has the swizzle of row r (32 % 8 = 0), 32 rows of 128 bytes further.
        pg_att_copy_16(keyAt, first ? keys + at : keys, first);
        pg_att_copy_16(keyAt + PG_ATT_TILE / 2 * 128, second ? keys + at + halfTileStride : keys, second);
        pg_att_copy_16(valueAt, first ? values + at : values, first);
        pg_att_copy_16(valueAt + PG_ATT_TILE / 2 * 128, second ? values + at + halfTileStride : values, second);
    }
};

// One key tile of the forward for the warp's 16 rows: o += P V with P = 2^(S scaleLog2 - rowMax), rowMax (base 2,
// scaled) and rowSum kept per row. MASKED: the tile starts at the warpgroup's first row, and key column j is hidden
// from the warp's row r (its 16 rows start at warpRow of the warpgroup) when j > warpRow + r.
template <bool MASKED>
__device__ __forceinline__ void pg_att_forward_tile(const uint32_t (&qa)[4][4], uint32_t keyTile, uint32_t valueTile,
                                                    int warpRow, float scaleLog2, float (&o)[8][4],
                                                    float (&rowMax)[2], float (&rowSum)[2]) {
    float s[8][4];
    pg_att_start_row_dots(qa, keyTile, s);
    pg_att_finish<0>(s);
    float tileMax[2];
    bool raise = false;
#pragma unroll
    for (int half = 0; half < 2; half++) {
        // The lane's max over its 16 scores of the row as a tree, 4 dependent steps rather than a chain of 16 (the
        // same value, max being exact): 0.669 against 0.703 ms for the forward (H100 lab, record shape, 10
        // interleaved rounds; faster in 9), results bitwise those of the chain.
        float m[8];
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
#pragma unroll
            for (int i = 2 * half; i < 2 * half + 2; i++) {
                if (MASKED && pg_att_col(nt, i) > warpRow + pg_att_row(i)) {
                    s[nt][i] = -INFINITY;
                }
            }
            m[nt] = fmaxf(s[nt][2 * half], s[nt][2 * half + 1]);
        }
#pragma unroll
        for (int width = 4; width >= 1; width >>= 1) {
#pragma unroll
            for (int j = 0; j < width; j++) {
                m[j] = fmaxf(m[j], m[j + width]);
            }
        }
        float x = m[0];
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
    pg_att_start_tile_product(pa, valueTile, o);
    pg_att_finish<0>(o);
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

// The forward for the 128 query rows from `first` of head h of sequence b: warpgroup g takes rows 64 g .. 64 g + 63
// of them, warp w of it rows 16 w .. 16 w + 15 of those. xsa: null for plain attention, else XSA's projections c,
// float32 [rows * heads], and out gets XSA's output.
__device__ __forceinline__ void pg_att_forward_rows(const pg_bf16* q, const pg_bf16* k, const pg_bf16* v, void* out,
                                                    int out_type, float* lse, float* xsa, int seqLen, int heads,
                                                    int kvHeads, int headDim, float scale, int h, int b, int first) {
    uint32_t queryTiles = pg_att_tiles();
    uint32_t keyTiles = pg_att_buffer(queryTiles, 2);
    uint32_t valueTiles = pg_att_buffer(keyTiles, PG_ATT_STAGES);
    int warpgroup = threadIdx.x >> 7;
    int warp = (threadIdx.x >> 5) & 3;
    int qStride = heads * headDim;
    // Keys and values have rows of the same stride (pg_att_key_value_copy).
    int kvStride = kvHeads * headDim;
    int outStride = heads * headDim;
    int kvCol = h / (heads / kvHeads) * headDim;
    long long rowBase = (long long)b * seqLen;
    int groupFirst = first + 64 * warpgroup;
    int lastKeyTile = (min(seqLen, first + PG_ATT_BLOCK_ROWS) - 1) / PG_ATT_TILE;
    const pg_bf16* keys = k + rowBase * kvStride + kvCol;
    const pg_bf16* values = v + rowBase * kvStride + kvCol;

    // Copy groups: the queries with key/value tile 0, then one per tile, PG_ATT_STAGES - 1 tiles ahead (an
    // empty group past the last tile keeps the count of groups in flight fixed).
    pg_att_copy_block_rows<PG_ATT_THREADS>(queryTiles, q + (rowBase + first) * qStride + h * headDim, qStride,
                                           seqLen - first, headDim);
    pg_att_key_value_copy copy(keys, values, kvStride, headDim, seqLen);
    copy.start(keyTiles, valueTiles, 0, 0, seqLen);
    pg_att_commit();
#pragma unroll
    for (int n = 1; n < PG_ATT_STAGES - 1; n++) {
        if (n <= lastKeyTile) {
            copy.start(keyTiles, valueTiles, n, n, seqLen);
        }
        pg_att_commit();
    }

    float scaleLog2 = scale * PG_ATT_LOG2E;
    float o[8][4];
    pg_att_zero(o);
    float rowMax[2] = {-INFINITY, -INFINITY};
    float rowSum[2] = {0.0f, 0.0f};
    uint32_t qa[4][4];
    for (int n = 0; n <= lastKeyTile; n++) {
        int buffer = n % PG_ATT_STAGES;
        pg_att_wait_stage();
        pg_att_tiles_visible();
        // After this barrier every warp is done with tile n - 1, whose buffers take tile n + STAGES - 1.
        __syncthreads();
        int ahead = n + PG_ATT_STAGES - 1;
        if (ahead <= lastKeyTile) {
            copy.start(keyTiles, valueTiles, ahead % PG_ATT_STAGES, ahead, seqLen);
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
                        ? __ldg(reinterpret_cast<const unsigned int*>(values + (long long)row * kvStride + col))
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
            long long i = (rowBase + row) * outStride + h * headDim + pg_att_col(nt, 0);
            if (out_type == PG_BF16) {
                *reinterpret_cast<__nv_bfloat162*>(static_cast<pg_bf16*>(out) + i) =
                        __floats2bfloat162_rn(y[nt][0], y[nt][1]);
            } else {
                *reinterpret_cast<float2*>(static_cast<float*>(out) + i) = make_float2(y[nt][0], y[nt][1]);
            }
        }
    }
}

// grid (ceil(ceil(seqLen / 128) / 2), heads, batch), block PG_ATT_THREADS. With n = ceil(seqLen / 128) query blocks
// of 128 rows, block x takes query block n - 1 - x, then query block x (once when they are the same), of head y of
// sequence z: every block visits n + 1 key tiles of 64, so the waves carry equal work and no long block starts last.
// Measured against a block per query block, longest first within each (head, sequence): 0.644 against 0.667 ms and
// 0.634 against 0.672 ms (two machines; H100, record shape, Nsight Compute). The loop over the two query blocks
// makes ptxas take 185 registers (one block per SM) unless bounded to two blocks per SM: 128 and 56 bytes of spills.
// A global longest-first order (0.674 ms, 4.6 times the DRAM reads) or longest first within windows of 8 to 32
// (head, sequence) pairs (0.669-0.685 ms) gained nothing.
// Nsight Compute (H100, record shape): issue slots 51% busy, 7.5 cycles per issued instruction of a warp, of them 1.7
// waiting on fixed-latency results, 1.1 at the per-tile __syncthreads; pipes in % of their peak: ALU 42, MUFU (XU) 39,
// tensor 38, FMA 18 (dQ pass: tensor 48, ALU 41, XU 33, FMA 22; dK/dV pass: tensor 42, XU 24, ALU 23, FMA 18).
// The exponentials, as many MUFU cycles as the products take tensor cycles, do not bind: a share of them on the FMA
// pipe (FlashAttention-4's 2^x: x = n + f, 2^f by a cubic, 2^n added into the exponent; relative error 8.6e-5,
// masked scores exactly 0; branch attnexp, dev/attn_fwd_lab/variants/exp2fma.diff) made every pass slower, for 1/8,
// 1/4, 3/8, 1/2 of them: forward 0.722 / 0.739 / 0.765 / 0.781 against 0.677 ms, dK/dV pass 1.180 / 1.210 / 1.240 /
// 1.258 against 1.143, dQ pass 0.831 / 0.830 / 0.854 / 0.883 against 0.811 (15% more instructions at 1/4). No faster
// either: the tile's max skipped while each lane's probabilities of a row sum to at most 2^8 (4.4% fewer
// instructions; 0.674 against 0.677 ms), the row sum as a tree (0.704 against 0.702).
// Slower in the H100 lab (record shape, interleaved rounds against this kernel at 0.69-0.70 ms, before the tree max):
// a producer warpgroup copying the key/value tiles into an mbarrier ring and two consumer warpgroups (setmaxnreg),
// one block per SM, each consumer starting tile t's S = Q K^T with tile t - 1's P V and doing t's softmax under
// P V: 0.93 ms with 4 or 6 buffers (1.43 with 2); the same with S_{t+1} too started before tile t's softmax (two
// score accumulators; ptxas then serializes the wgmmas, C7512): 0.99; that producer version at two blocks per SM
// (consumers at 104 registers, queries read from shared memory): 0.81. This kernel with tile t's S started with tile
// t - 1's P V (4 buffers, 2 tiles ahead): 0.75; with an mbarrier ring instead of the per-tile __syncthreads: 0.77
// (25% more instructions); with the score products reading the queries from shared memory: 0.72. All bitwise this
// kernel's results.
extern "C" __global__ void __launch_bounds__(PG_ATT_THREADS, 2)
pg_attention_forward(const pg_bf16* q, const pg_bf16* k, const pg_bf16* v, void* out, int out_type, float* lse,
                     float* xsa, int seqLen, int heads, int kvHeads, int headDim, float scale) {
    int last = (seqLen - 1) / PG_ATT_BLOCK_ROWS;
    int rank = blockIdx.x;
#pragma unroll 1
    for (int queryBlock = last - rank; queryBlock >= rank; queryBlock -= max(last - 2 * rank, 1)) {
        pg_att_forward_rows(q, k, v, out, out_type, lse, xsa, seqLen, heads, kvHeads, headDim, scale, blockIdx.y,
                            blockIdx.z, queryBlock * PG_ATT_BLOCK_ROWS);
        // The next query block's first copies overwrite tiles that other warps may still be reading.
        __syncthreads();
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

// The warp's staging area for pg_att_add_rows (16 rows) in the block's dynamic shared memory, free once a pass's
// loop is done and the block has passed a barrier (16 rows of PG_ATT_STAGING_STRIDE floats per warp: 34 KB of the dQ
// pass's 81 KB; 52 KB of the dK/dV pass's 116 KB, whose producer warps 0-3 take none).
__device__ __forceinline__ float* pg_att_staging() {
    return reinterpret_cast<float*>(pg_att_dynamic) + (threadIdx.x >> 5) * 16 * PG_ATT_STAGING_STRIDE;
}

// The warp's 16-row accumulator times `scale`, added into rows [row0, row0 + 16) of a head of headDim dims (row
// stride `stride`, column `col`) in p's type, rows at or past `validRows` skipped. It passes through the warp's
// staging area, so that eight lanes add one row whole, eight values each, and each access of the warp covers four
// whole rows. With the rows of every warp the pass writes each element of p once, so a pending-zero p is stored, not
// read (pg_accumulate_vec).
__device__ __forceinline__ void pg_att_add_rows(void* p, int type, long long row0, int stride, int col, int headDim,
                                                int validRows, const float (&acc)[8][4], float scale) {
    float* staging = pg_att_staging();
    int lane = threadIdx.x & 31;
    __syncwarp();
#pragma unroll
    for (int half = 0; half < 2; half++) {
#pragma unroll
        for (int nt = 0; nt < 8; nt++) {
            *reinterpret_cast<float2*>(staging + pg_att_row(2 * half) * PG_ATT_STAGING_STRIDE + pg_att_col(nt, 0)) =
                    make_float2(acc[nt][2 * half] * scale, acc[nt][2 * half + 1] * scale);
        }
    }
    __syncwarp();
    int chunk = lane & 7;
    if (8 * chunk >= headDim) {
        return;
    }
#pragma unroll
    for (int pass = 0; pass < 4; pass++) {
        int r = (lane >> 3) + 4 * pass;
        if (r < validRows) {
            const float* row = staging + r * PG_ATT_STAGING_STRIDE + 8 * chunk;
            float values[8];
            *reinterpret_cast<float4*>(values) = *reinterpret_cast<const float4*>(row);
            *reinterpret_cast<float4*>(values + 4) = *reinterpret_cast<const float4*>(row + 4);
            pg_accumulate_vec<8>(p, type, (row0 + r) * stride + col + 8 * chunk, values);
        }
    }
}

// The dK/dV pass's streamed operands of one step: query tile `tile` of query head `member` of the kv group (queries,
// output gradients, and their statistics lse and D) into buffer `buffer`, taken by the THREADS threads from thread 0
// on. `queries`, `grads` point at row 0 of the sequence's first head of the group, `lse` and `rowDots` at that head's
// statistics. Rows past the sequence are all zeros, so their probabilities, exp(q . k - 0) = 1, meet zero output
// gradients and contribute nothing.
template <int THREADS>
__device__ __forceinline__ void pg_att_copy_query_tile(uint32_t queryTiles, uint32_t gradTiles,
                                                       float (*statistics)[2][PG_ATT_TILE], int buffer,
                                                       const pg_bf16* queries, int qStride, const pg_bf16* grads,
                                                       int gradStride, const float* lse, const float* rowDots,
                                                       int member, int tile, int headDim, int seqLen) {
    static_assert(THREADS >= 2 * PG_ATT_TILE, "a statistic per thread");
    long long first = (long long)tile * PG_ATT_TILE;
    pg_att_copy_tile_pair<THREADS>(pg_att_buffer(queryTiles, buffer), queries + first * qStride + member * headDim,
                                   qStride, pg_att_buffer(gradTiles, buffer),
                                   grads + first * gradStride + member * headDim, gradStride, seqLen - (int)first,
                                   headDim);
    if (threadIdx.x < 2 * PG_ATT_TILE) {
        int which = threadIdx.x / PG_ATT_TILE;
        int r = threadIdx.x % PG_ATT_TILE;
        bool valid = first + r < seqLen;
        const float* from = (which == 0 ? lse : rowDots) + (long long)member * seqLen + (valid ? first + r : 0);
        pg_att_copy_word(pg_att_shared(&statistics[buffer][which][r]), from, valid);
    }
}

// One query tile of the dK/dV pass for the warp's 16 keys: the transposed probabilities P^T = exp(K Q^T - lse) and
// their gradient dP^T = V dO^T, both products started together, then dV += P^T dO and dK += dS^T Q (unscaled),
// dS^T = P^T (dP^T - D). keyRows, valueRows: the warp's keys and values as A fragments (pg_att_load_rows), so that the
// score products read only the query and output-gradient tiles from shared memory (1.191 against 1.201 ms with both
// operands from there, three buffers). Slower: 32 query columns a step (1.350 against 1.220 ms), or the tile taken as
// two halves of 32 whose products interleave (m64n32 score products; 1.282 against 1.152). MASKED: the tile starts at
// the warpgroup's first key, and key row r of the warp (its 16 keys start at warpKey of the warpgroup) is hidden from
// query column j when warpKey + r > j.
template <bool MASKED>
__device__ __forceinline__ void pg_att_dkdv_step(const uint32_t (&keyRows)[4][4], const uint32_t (&valueRows)[4][4],
                                                 uint32_t queryTile, uint32_t gradTile, const float* tileLse,
                                                 const float* tileDots, int warpKey, float scaleLog2,
                                                 float (&dk)[8][4], float (&dv)[8][4]) {
    float p[8][4];
    float ds[8][4];
    pg_att_start_row_dots(keyRows, queryTile, p);
    pg_att_start_row_dots(valueRows, gradTile, ds);
    pg_att_finish<1>(p);
#pragma unroll
    for (int nt = 0; nt < 8; nt++) {
        float2 l = *reinterpret_cast<const float2*>(tileLse + pg_att_col(nt, 0));
#pragma unroll
        for (int i = 0; i < 4; i++) {
            float x = pg_att_exp2(fmaf(p[nt][i], scaleLog2, -((i & 1) ? l.y : l.x) * PG_ATT_LOG2E));
            if (MASKED && warpKey + pg_att_row(i) > pg_att_col(nt, i)) {
                x = 0.0f;
            }
            p[nt][i] = x;
        }
    }
    uint32_t operand[4][4];
    pg_att_to_operand(p, operand);
    pg_att_finish<0>(ds);
    pg_att_start_tile_product(operand, gradTile, dv);
#pragma unroll
    for (int nt = 0; nt < 8; nt++) {
        float2 d = *reinterpret_cast<const float2*>(tileDots + pg_att_col(nt, 0));
#pragma unroll
        for (int i = 0; i < 4; i++) {
            ds[nt][i] = p[nt][i] * (ds[nt][i] - ((i & 1) ? d.y : d.x));
        }
    }
    uint32_t gradientOperand[4][4];
    pg_att_to_operand(ds, gradientOperand);
    pg_att_start_tile_product(gradientOperand, queryTile, dk);
    pg_att_finish<0>(dv);
    pg_att_finish<0>(dk);
}

// The backward block's place in one longest-first order over the whole grid (blocks, heads, batch): its rank, 0 for the
// longest work, is returned, head and sequence set, and every (head, sequence) gets rank r before any gets r + 1, so
// that the last waves hold the shortest blocks. Measured against longest first within each (head, sequence): 1.949
// against 2.070 ms for the whole backward (H100, record shape, bf16 gradients). The blocks resident at once touch
// different (head, sequence) pairs, whose queries and output gradients the L2 cannot hold together, so the dK/dV pass
// reads 1.79 GB from DRAM and the dQ pass 1.05 GB, each for 0.3 GB of operands; orders that keep a few pairs' blocks
// together cut that to 0.31-0.60 GB but ran no faster (Nsight Compute, H100: longest first within windows of 8, 16, 32,
// 64 pairs 1.196 / 1.174 / 1.147 / 1.145 ms dK/dV and 0.774 / 0.772 / 0.766 / 0.752 ms dQ, against 1.141 and 0.754; a
// block per mirrored pair of 128-row blocks, equal work, 1.172 and 0.771 with spills): these passes are not bound by
// DRAM.
__device__ __forceinline__ int pg_att_longest_first(int& head, int& sequence) {
    int order = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    int pairs = gridDim.y * gridDim.z;
    head = order % pairs % gridDim.y;
    sequence = order % pairs / gridDim.y;
    return order / pairs;
}

// The dK/dV pass's block: a producer warpgroup (warpgroup 0) that only copies tiles, and two consumer warpgroups
// that run the products with the producer's registers, so that they hold P^T and dP^T of 64 query columns, dK, dV and
// their keys and values in registers and keep both score products in flight. Two warpgroups of 256 threads that
// copied their own tiles, two blocks per SM, had 128 registers: 32 query columns a step, 64 bytes spilled, and ptxas
// serialized the wgmmas (C7512): 1.224 ms for the pass against 1.145 (H100, record shape, bf16 gradients, same run;
// Nsight Compute 1.41 against 1.30 ms, tensor pipe active 39% against 42%). Without the producer, one block per SM:
// 1.436 ms with 32 query columns (152 registers), 1.263 with 64 (194 registers), both without C7512.
#define PG_ATT_DKDV_THREADS 384
#define PG_ATT_DKDV_PRODUCERS 128
// Buffers of the streamed query / output-gradient tiles: the producer runs up to this many steps ahead. 2 / 3 / 5:
// 1.360 / 1.191 / 1.145 ms for the pass (H100, record shape, bf16 gradients, one run).
#define PG_ATT_DKDV_STAGES 5

// The warpgroup's per-thread register budget, moved between the producer and the consumers (Hopper only:
// setmaxnreg): 384 threads at launch get 168 each (65,536 / 384, rounded down to 8); the producer gives up all but
// 40 and each consumer thread takes up to 232, 128 x 40 + 256 x 232 = 384 x 168.
__device__ __forceinline__ void pg_att_producer_registers() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void pg_att_consumer_registers() {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n" ::: "memory");
#endif
}

// The arrival of this thread once every cp.async it started so far has landed (counted among the expected arrivals).
__device__ __forceinline__ void pg_att_barrier_arrive_on_copies(uint32_t barrier) {
    asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];\n" :: "r"(barrier) : "memory");
}

// grid (ceil(seqLen / 128), kvHeads, batch), block PG_ATT_DKDV_THREADS, one block per SM. The block of rank x
// (pg_att_longest_first) owns keys 128 x .. 128 x + 127 of a kv head of a sequence and visits the query tiles of 64
// from its first key on, of every query head of the kv group: a step per (query head, tile), the head outermost.
// Warpgroup 0 copies the block's keys and values and then each step's query tile, output-gradient tile and their
// statistics into a ring of PG_ATT_DKDV_STAGES buffers; buffer b's `filled` barrier completes a phase when a step's
// copies into it have landed, its `drained` barrier when the eight consumer warps are done with it. Consumer
// warpgroup g (1 or 2) owns keys 64 (g - 1) .. 64 g - 1 of the block, warp w of it 16 w .. 16 w + 15 of those, and
// keeps their dK, dV in registers, their keys and values too (loaded once from the block's tiles). The consumers see
// the copies of the cp.async unit (generic proxy) through the `filled` barrier and a proxy fence before their wgmmas
// read them (async proxy). Shared memory: the block's key and value tiles, the query and output-gradient buffers,
// their statistics, then the barriers.
extern "C" __global__ void __launch_bounds__(PG_ATT_DKDV_THREADS, 1)
pg_attention_backward_dkdv(const pg_bf16* q, const pg_bf16* k, const pg_bf16* v, const float* lse,
                           const float* rowDots, const pg_bf16* dOut, void* dK, int dK_type, void* dV, int dV_type,
                           int seqLen, int heads, int kvHeads, int headDim, float scale) {
    constexpr int STAGES = PG_ATT_DKDV_STAGES;
    uint32_t keyTiles = pg_att_tiles();
    uint32_t valueTiles = pg_att_buffer(keyTiles, 2);
    uint32_t queryTiles = pg_att_buffer(valueTiles, 2);
    uint32_t gradTiles = pg_att_buffer(queryTiles, STAGES);
    uint32_t statisticsAt = pg_att_buffer(gradTiles, STAGES);
    float (*statistics)[2][PG_ATT_TILE] = reinterpret_cast<float (*)[2][PG_ATT_TILE]>(
            pg_att_dynamic + (statisticsAt - pg_att_shared(pg_att_dynamic)));
    uint32_t filled = statisticsAt + STAGES * 2 * PG_ATT_TILE * 4;
    uint32_t drained = filled + STAGES * 8;
    int kv;
    int b;
    int keyFirst = pg_att_longest_first(kv, b) * PG_ATT_BLOCK_ROWS;
    int qStride = heads * headDim;
    int gradStride = heads * headDim;
    int kStride = kvHeads * headDim;
    int vStride = kvHeads * headDim;
    int dKStride = kvHeads * headDim;
    int dVStride = kvHeads * headDim;
    int group = heads / kvHeads;
    long long rowBase = (long long)b * seqLen;
    int firstQueryTile = keyFirst / PG_ATT_TILE;
    int tilesPerHead = (seqLen - 1) / PG_ATT_TILE - firstQueryTile + 1;
    int steps = group * tilesPerHead;

    if (threadIdx.x < STAGES) {
        pg_mbarrier_init(filled + 8 * threadIdx.x, PG_ATT_DKDV_PRODUCERS);
        pg_mbarrier_init(drained + 8 * threadIdx.x, 8);
    }
    __syncthreads();

    if (threadIdx.x < PG_ATT_DKDV_PRODUCERS) {
        pg_att_producer_registers();
        const pg_bf16* queries = q + rowBase * qStride + kv * group * headDim;
        const pg_bf16* grads = dOut + rowBase * gradStride + kv * group * headDim;
        long long statBase = ((long long)b * heads + kv * group) * seqLen;
        for (int step = 0; step < steps; step++) {
            int buffer = step % STAGES;
            if (step >= STAGES) {
                pg_mbarrier_wait(drained + 8 * buffer, (step / STAGES - 1) & 1);
            } else if (step == 0) {
                pg_att_copy_block_rows<PG_ATT_DKDV_PRODUCERS>(keyTiles, k + (rowBase + keyFirst) * kStride +
                                                              kv * headDim, kStride, seqLen - keyFirst, headDim);
                pg_att_copy_block_rows<PG_ATT_DKDV_PRODUCERS>(valueTiles, v + (rowBase + keyFirst) * vStride +
                                                              kv * headDim, vStride, seqLen - keyFirst, headDim);
            }
            pg_att_copy_query_tile<PG_ATT_DKDV_PRODUCERS>(queryTiles, gradTiles, statistics, buffer, queries, qStride,
                                                          grads, gradStride, lse + statBase, rowDots + statBase,
                                                          step / tilesPerHead, firstQueryTile + step % tilesPerHead,
                                                          headDim, seqLen);
            pg_att_barrier_arrive_on_copies(filled + 8 * buffer);
        }
        asm volatile("cp.async.wait_all;\n" ::: "memory");
        return;
    }

    pg_att_consumer_registers();
    int warpgroup = (threadIdx.x - PG_ATT_DKDV_PRODUCERS) >> 7;
    int warp = (threadIdx.x >> 5) & 3;
    int groupKey = keyFirst + 64 * warpgroup;
    float scaleLog2 = scale * PG_ATT_LOG2E;
    uint32_t keyRows[4][4];
    uint32_t valueRows[4][4];
    float dk[8][4];
    float dv[8][4];
    pg_att_zero(dk);
    pg_att_zero(dv);
    for (int step = 0; step < steps; step++) {
        int buffer = step % STAGES;
        pg_mbarrier_wait(filled + 8 * buffer, (step / STAGES) & 1);
        pg_att_tiles_visible();
        if (step == 0) {
            pg_att_load_rows(pg_att_buffer(keyTiles, warpgroup), 16 * warp, keyRows);
            pg_att_load_rows(pg_att_buffer(valueTiles, warpgroup), 16 * warp, valueRows);
        }
        int queryOffset = (firstQueryTile + step % tilesPerHead) * PG_ATT_TILE - groupKey;
        uint32_t queryTile = pg_att_buffer(queryTiles, buffer);
        uint32_t gradTile = pg_att_buffer(gradTiles, buffer);
        if (queryOffset > 0) {
            pg_att_dkdv_step<false>(keyRows, valueRows, queryTile, gradTile, statistics[buffer][0],
                                    statistics[buffer][1], 16 * warp, scaleLog2, dk, dv);
        } else if (queryOffset == 0) {
            pg_att_dkdv_step<true>(keyRows, valueRows, queryTile, gradTile, statistics[buffer][0],
                                   statistics[buffer][1], 16 * warp, scaleLog2, dk, dv);
        }
        __syncwarp();
        if ((threadIdx.x & 31) == 0) {
            pg_mbarrier_arrive(drained + 8 * buffer);
        }
    }
    // Every consumer is done with the tiles, which the staging areas of pg_att_add_rows overwrite (barrier 1: the
    // consumers' 256 threads only; the producer has left).
    asm volatile("bar.sync 1, %0;\n" :: "n"(PG_ATT_DKDV_THREADS - PG_ATT_DKDV_PRODUCERS) : "memory");
    long long keyRow0 = rowBase + groupKey + 16 * warp;
    int validRows = seqLen - groupKey - 16 * warp;
    pg_att_add_rows(dK, dK_type, keyRow0, dKStride, kv * headDim, headDim, validRows, dk, scale);
    pg_att_add_rows(dV, dV_type, keyRow0, dVStride, kv * headDim, headDim, validRows, dv, 1.0f);
}

// Key columns a step of the dQ pass takes (32 or 64); with 64 the pass fits 122 registers, two blocks per SM.
#define PG_ATT_DQ_COLUMNS 64

// Key columns [column, column + PG_ATT_DQ_COLUMNS) of one key tile of the dQ pass for the warp's 16 rows:
// P = exp(Q K^T - lse) and dP = dO V^T, then dQ += dS K (unscaled), dS = P (dP - D); the dP product runs while P is
// computed. MASKED: the tile starts at the warpgroup's first row, and key column j is hidden from the warp's row r
// (its 16 rows start at warpRow of the warpgroup) when j > warpRow + r.
template <bool MASKED>
__device__ __forceinline__ void pg_att_dq_step(uint32_t queryTile, uint32_t gradTile, uint32_t keyTile,
                                               uint32_t valueTile, const float (&rowLse)[2], const float (&rowDot)[2],
                                               int column, int warpRow, float scaleLog2, float (&dq)[8][4]) {
    constexpr int N = PG_ATT_DQ_COLUMNS / 8;
    uint32_t keys = keyTile + column * 128;
    float p[N][4];
    float ds[N][4];
    pg_att_start_row_dots(queryTile, keys, p);
    pg_att_start_row_dots(gradTile, valueTile + column * 128, ds);
    pg_att_finish<1>(p);
#pragma unroll
    for (int nt = 0; nt < N; nt++) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            float x = pg_att_exp2(fmaf(p[nt][i], scaleLog2, -rowLse[i >> 1]));
            if (MASKED && column + pg_att_col(nt, i) > warpRow + pg_att_row(i)) {
                x = 0.0f;
            }
            p[nt][i] = x;
        }
    }
    pg_att_finish<0>(ds);
#pragma unroll
    for (int nt = 0; nt < N; nt++) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            ds[nt][i] = p[nt][i] * (ds[nt][i] - rowDot[i >> 1]);
        }
    }
    uint32_t operand[N / 2][4];
    pg_att_to_operand(ds, operand);
    pg_att_start_tile_product(operand, keys, dq);
    pg_att_finish<0>(dq);
}

// grid (ceil(seqLen / 128), heads, batch), block PG_ATT_THREADS, 81 KB of dynamic shared memory (two blocks per SM,
// 122 registers: the score products read Q and dO from shared memory, which measured 2.13 against 2.33 ms for the
// whole backward with them in registers and one block per SM; H100, record shape, bf16 gradients). The block of rank
// x (pg_att_longest_first) owns query rows 128 x' .. 128 x' + 127, x' = gridDim.x - 1 - x, of a head of a sequence
// and visits the key tiles of 64 up to its last row; warpgroup g owns rows 64 g .. 64 g + 63 of the block, warp w of it
// 16 w .. 16 w + 15 of those, and keeps their dQ in registers. Shared memory: the block's query and output-gradient
// tiles (the score products' A operands), then PG_ATT_STAGES buffers of key and of value tiles.
extern "C" __global__ void __launch_bounds__(PG_ATT_THREADS, 2)
pg_attention_backward_dq(const pg_bf16* q, const pg_bf16* k, const pg_bf16* v, const float* lse,
                         const float* rowDots, const pg_bf16* dOut, void* dQ, int dQ_type, int seqLen, int heads,
                         int kvHeads, int headDim, float scale) {
    uint32_t queryTiles = pg_att_tiles();
    uint32_t gradTiles = pg_att_buffer(queryTiles, 2);
    uint32_t keyTiles = pg_att_buffer(gradTiles, 2);
    uint32_t valueTiles = pg_att_buffer(keyTiles, PG_ATT_STAGES);
    int h;
    int b;
    int first = (gridDim.x - 1 - pg_att_longest_first(h, b)) * PG_ATT_BLOCK_ROWS;
    int warpgroup = threadIdx.x >> 7;
    int warp = (threadIdx.x >> 5) & 3;
    int qStride = heads * headDim;
    int gradStride = heads * headDim;
    // Keys and values have rows of the same stride (pg_att_key_value_copy).
    int kvStride = kvHeads * headDim;
    int dQStride = heads * headDim;
    int kvCol = h / (heads / kvHeads) * headDim;
    long long rowBase = (long long)b * seqLen;
    int groupFirst = first + 64 * warpgroup;
    int lastKeyTile = (min(seqLen, first + PG_ATT_BLOCK_ROWS) - 1) / PG_ATT_TILE;
    const pg_bf16* keys = k + rowBase * kvStride + kvCol;
    const pg_bf16* values = v + rowBase * kvStride + kvCol;

    // Copy groups as in the forward: the block's queries and output gradients with key/value tile 0, then one per
    // tile.
    pg_att_copy_block_rows<PG_ATT_THREADS>(queryTiles, q + (rowBase + first) * qStride + h * headDim, qStride,
                                           seqLen - first, headDim);
    pg_att_copy_block_rows<PG_ATT_THREADS>(gradTiles, dOut + (rowBase + first) * gradStride + h * headDim,
                                           gradStride, seqLen - first, headDim);
    pg_att_key_value_copy copy(keys, values, kvStride, headDim, seqLen);
    copy.start(keyTiles, valueTiles, 0, 0, seqLen);
    pg_att_commit();
#pragma unroll
    for (int n = 1; n < PG_ATT_STAGES - 1; n++) {
        if (n <= lastKeyTile) {
            copy.start(keyTiles, valueTiles, n, n, seqLen);
        }
        pg_att_commit();
    }

    // The statistics of the lane's two rows (base 2); a row past the sequence gets lse = inf, so P = 0 there.
    float rowLse[2];
    float rowDot[2];
    long long statBase = ((long long)b * heads + h) * seqLen;
#pragma unroll
    for (int half = 0; half < 2; half++) {
        int row = groupFirst + 16 * warp + pg_att_row(2 * half);
        bool valid = row < seqLen;
        rowLse[half] = valid ? lse[statBase + row] * PG_ATT_LOG2E : INFINITY;
        rowDot[half] = valid ? rowDots[statBase + row] : 0.0f;
    }

    float scaleLog2 = scale * PG_ATT_LOG2E;
    float dq[8][4];
    pg_att_zero(dq);
    uint32_t queryTile = pg_att_buffer(queryTiles, warpgroup);
    uint32_t gradTile = pg_att_buffer(gradTiles, warpgroup);
    for (int n = 0; n <= lastKeyTile; n++) {
        int buffer = n % PG_ATT_STAGES;
        pg_att_wait_stage();
        pg_att_tiles_visible();
        // After this barrier every warp is done with tile n - 1, whose buffers take tile n + STAGES - 1.
        __syncthreads();
        int ahead = n + PG_ATT_STAGES - 1;
        if (ahead <= lastKeyTile) {
            copy.start(keyTiles, valueTiles, ahead % PG_ATT_STAGES, ahead, seqLen);
        }
        pg_att_commit();
        int keyOffset = n * PG_ATT_TILE - groupFirst;
        uint32_t keyTile = pg_att_buffer(keyTiles, buffer);
        uint32_t valueTile = pg_att_buffer(valueTiles, buffer);
#pragma unroll
        for (int column = 0; column < PG_ATT_TILE; column += PG_ATT_DQ_COLUMNS) {
            if (keyOffset < 0) {
                pg_att_dq_step<false>(queryTile, gradTile, keyTile, valueTile, rowLse, rowDot, column, 16 * warp,
                                      scaleLog2, dq);
            } else if (keyOffset == 0) {
                pg_att_dq_step<true>(queryTile, gradTile, keyTile, valueTile, rowLse, rowDot, column, 16 * warp,
                                     scaleLog2, dq);
            }
        }
    }
    __syncthreads();
    pg_att_add_rows(dQ, dQ_type, rowBase + groupFirst + 16 * warp, dQStride, h * headDim, headDim,
                    seqLen - groupFirst - 16 * warp, dq, scale);
}
