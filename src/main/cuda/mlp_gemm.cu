// The MLP's first product with its activation in the epilogue (io.pgolf.gpu.cuda.CudaLayerOps.mlpHidden and
// mlpHiddenBackward): C = A B^T over bf16 operands, A [rows, dim] and B [hidden, dim] both row-major (dims contiguous),
// float32 accumulators, on Hopper's warpgroup MMAs (sm_90a).
//   forward:  h = x fc^T stored in bf16, and a = leaky_relu(h, slope)^2 of the stored (rounded) h, both stored;
//   backward: dH = dA * leaky_relu^2'(h) stored, dA = dY proj rounded to bf16 (B = proj transposed, [hidden, dim]),
//             so that dA never goes through memory.
// Against cuBLAS and then the elementwise kernel this saves reading h back in the forward (0.4 GB at the record's
// 98,304 x 2048) and writing and reading dA in the backward (0.8 GB).
// The forward: tiles of 128 rows x 256 columns of C (per FLOP a quarter less operand traffic than 128 x 128), one
// block an SM looping over them (persistent, the column tiles of a row tile taken together so that A's rows are
// shared in L2): a producer warpgroup (one thread issuing, the others giving their registers to the consumers through
// setmaxnreg) streams the dims in steps of 64 into PG_MLP_STAGES buffers of 48 KB with the tensor memory accelerator,
// running on into the next tile's steps while the consumers finish a tile, and two consumer warpgroups (64 rows x
// 256 columns each, 128 accumulators a thread) take each step once its mbarrier has seen the bytes land, releasing
// its buffer as soon as their products of it are done; the epilogue stages the rounded tile in its own 64 KB buffer.
// The backward: a block owns a tile of 128 rows x 128 columns of C (two blocks per SM, so that one's epilogue
// overlaps the other's products), a producer warp and two consumer warpgroups (64 rows each) as above, the tile staged
// in the last step's buffer, and its tile of h brought in by the producer into the buffer that no step fills after
// the last step's. Both: CudaLayerOps encodes the tensor maps (128-byte swizzle, the layout wgmma's descriptors read,
// zeros past the operands' ends); the staged tile goes out in whole 16-byte words along rows.
// H100 lab (dev/mlp_tile_lab on branch mlptile), record shape (98,304 x 2048 x 512), medians of 41, same run, against
// the kernels of main a916fa6 (128 x 128 tiles for both): forward 0.462 ms against 0.515, the product alone 0.346
// against 0.413 (cuBLAS 0.336; cuBLAS + leakyReluSquared 0.628), backward (the same kernel) 0.475 against 0.477; an
// earlier run: forward 0.448 against 0.503, product 0.336 against 0.397 (cuBLAS 0.325). Results bitwise those of
// a916fa6 at four shapes.
// Tried without gain (lab, same runs):
//   the forward's next tile's first step issued before the epilogue (the epilogue then works from 64 registers of
//   packed bf16 pairs): forward 0.473 against 0.448 without, product 0.354 against 0.336;
//   the backward on the forward's tiles too (branch mlptile, variants/mlp_gemm_wide_both.cu: h loaded by the producer
//   into the staging buffer once the previous tile's epilogue has released it, dH computed in place) with h's load
//   issued after the third step's: 0.506 against 0.470 (0.513 against 0.473 with the overlap above). With h's load
//   issued after the last step's it was faster, 0.448 against 0.476 (one run, bitwise at the four shapes), but is not
//   here: gpu-parity has not run on it;
//   a producer warp instead of a warpgroup for the forward: 9 warps put 3 on one SM sub-partition, so 168 registers a
//   thread at most (ptxas then spills the 128 accumulators; with __maxnreg__(224) the launch fails).
// Before this, on the 128 x 128 kernels (dev/mlp_tma_lab on branch mlptma): waiting for each step's products before
// the next step's start (backward 0.515 against 0.485); a cluster of two blocks sharing the A tile through multicast
// (0.66-0.73 ms); TMA stores from the staged tile (forward 0.560 against 0.525); persistent blocks, 2 an SM (product
// 0.394 against 0.445 but forward 0.533 against 0.528, backward 0.520 against 0.545).
// dim and hidden must be multiples of 8 (the tensor maps' row pitches are multiples of 16 bytes): CudaLayerOps sends
// other shapes, and other GPUs, to the composed path.
#include "pgolf.cuh"
#include "pgolf_hopper.cuh"
#include <cuda.h>

typedef __nv_bfloat16 pg_bf16;

#define PG_MLP_TILE_ROWS 128
#define PG_MLP_TILE_DIMS 64
#define PG_MLP_CONSUMERS 256
// Buffers of the streamed dims.
#define PG_MLP_STAGES 3
// The backward's tiles: 128 x 128, a producer warp, two blocks per SM (2 x 97 KB of shared memory).
#define PG_MLP_TILE_COLS 128
#define PG_MLP_THREADS (PG_MLP_CONSUMERS + 32)
#define PG_MLP_BLOCKS_PER_SM 2
// One operand's buffer: 128 rows of 64 dims, 128 bytes a row.
#define PG_MLP_OPERAND_BYTES (PG_MLP_TILE_ROWS * PG_MLP_TILE_DIMS * 2)
#define PG_MLP_STAGE_BYTES (2 * PG_MLP_OPERAND_BYTES)

// The forward's tiles: 128 rows x 256 columns of C, PG_MLP_STAGES buffers of a step's 128 rows of A and 256 rows of
// B, then the staging buffer of the tile (four quarters of 64 columns, each 128 rows of 128 bytes), then the mbarriers.
#define PG_MLP_FORWARD_COLS 256
#define PG_MLP_FORWARD_THREADS (PG_MLP_CONSUMERS + 128)
#define PG_MLP_FORWARD_STAGE_BYTES (PG_MLP_OPERAND_BYTES + PG_MLP_FORWARD_COLS * PG_MLP_TILE_DIMS * 2)
#define PG_MLP_FORWARD_STAGED_BYTES (PG_MLP_TILE_ROWS * PG_MLP_FORWARD_COLS * 2)

extern __shared__ __align__(128) unsigned char pg_mlp_dynamic[];

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
// d (+)= A B^T for the warpgroup's 64 rows and the tile's 128 columns over 16 dims, both read through descriptors.
__device__ __forceinline__ void pg_mlp_wgmma(float (&d)[16][4], uint64_t aDescriptor, uint64_t bDescriptor,
                                             int accumulate) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
                 "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, "
                 "%21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, "
                 "%40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, "
                 "%59, %60, %61, %62, %63}, "
                 "%64, %65, p, 1, 1, 0, 0;\n}\n"
                 : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                   "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                   "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                   "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                   "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                   "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                   "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                   "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3]),
                   "+f"(d[8][0]), "+f"(d[8][1]), "+f"(d[8][2]), "+f"(d[8][3]),
                   "+f"(d[9][0]), "+f"(d[9][1]), "+f"(d[9][2]), "+f"(d[9][3]),
                   "+f"(d[10][0]), "+f"(d[10][1]), "+f"(d[10][2]), "+f"(d[10][3]),
                   "+f"(d[11][0]), "+f"(d[11][1]), "+f"(d[11][2]), "+f"(d[11][3]),
                   "+f"(d[12][0]), "+f"(d[12][1]), "+f"(d[12][2]), "+f"(d[12][3]),
                   "+f"(d[13][0]), "+f"(d[13][1]), "+f"(d[13][2]), "+f"(d[13][3]),
                   "+f"(d[14][0]), "+f"(d[14][1]), "+f"(d[14][2]), "+f"(d[14][3]),
                   "+f"(d[15][0]), "+f"(d[15][1]), "+f"(d[15][2]), "+f"(d[15][3])
                 : "l"(aDescriptor), "l"(bDescriptor), "r"(accumulate));
}

// The first stage buffer, 1024-byte aligned (the 128-byte swizzle's period).
__device__ __forceinline__ uint32_t pg_mlp_stages() {
    return ((uint32_t)__cvta_generic_to_shared(pg_mlp_dynamic) + 1023u) & ~1023u;
}

// Stage buffer i as a generic pointer.
__device__ __forceinline__ unsigned char* pg_mlp_buffer(int i) {
    uint32_t rawShared = (uint32_t)__cvta_generic_to_shared(pg_mlp_dynamic);
    return pg_mlp_dynamic + (pg_mlp_stages() - rawShared) + i * PG_MLP_STAGE_BYTES;
}

// The mbarriers after the stage buffers: "full" i (the producer's expected bytes of buffer i have landed), then
// "empty" i (every consumer warp is done with buffer i).
__device__ __forceinline__ uint32_t pg_mlp_full(int i) {
    return pg_mlp_stages() + PG_MLP_STAGES * PG_MLP_STAGE_BYTES + 8 * i;
}

__device__ __forceinline__ uint32_t pg_mlp_empty(int i) {
    return pg_mlp_full(PG_MLP_STAGES + i);
}

// Waits until the barrier's phase of the given parity has completed: a C loop around one try_wait, as these kernels
// were measured with (pgolf_hopper.cuh's pg_mbarrier_wait, which branches inside its asm block, changes ptxas's
// schedule of them and was not timed here).
__device__ __forceinline__ void pg_mlp_wait(uint32_t barrier, uint32_t parity) {
    uint32_t done;
    do {
        asm volatile("{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                     "selp.u32 %0, 1, 0, p;\n}\n"
                     : "=r"(done) : "r"(barrier), "r"(parity) : "memory");
    } while (!done);
}

// The stage buffers' roles once `steps` steps are done: the last step's buffer stages the tile, and the next one in
// the ring (filled by no step after the last's) takes what the epilogue reads besides.
__device__ __forceinline__ int pg_mlp_staging_buffer(int steps) {
    return (steps - 1) % PG_MLP_STAGES;
}

__device__ __forceinline__ int pg_mlp_spare_buffer(int steps) {
    return steps % PG_MLP_STAGES;
}

// Sets up a kernel's mbarriers (thread 0), PG_MLP_STAGES "full" ones from shared address `firstFull` on, then as many
// "empty" ones, visible to every thread and to the tensor memory accelerator after the barrier.
__device__ __forceinline__ void pg_mlp_init_barriers(uint32_t firstFull) {
    if (threadIdx.x == 0) {
        for (int i = 0; i < PG_MLP_STAGES; i++) {
            pg_mbarrier_init(firstFull + 8 * i, 1);
            pg_mbarrier_init(firstFull + 8 * (PG_MLP_STAGES + i), PG_MLP_CONSUMERS / 32);
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    }
    __syncthreads();
}

// Copies the box of `map` at (inner, outer) into shared memory at `to`, counted on mbarrier `full`.
__device__ __forceinline__ void pg_mlp_tma_load(uint32_t to, const CUtensorMap& map, int inner, int outer,
                                                uint32_t full) {
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], "
                 "[%4];\n"
                 :: "r"(to), "l"(reinterpret_cast<uint64_t>(&map)), "r"(inner), "r"(outer), "r"(full)
                 : "memory");
}

// The producer warp's lane 0: fills the stage buffers with dims [64 s, 64 s + 64) of the tile's rows of A (at row0)
// and B (at col0) for each step s, then, with `extra` (the backward's h), columns col0 .. col0 + 127 of rows
// row0 .. row0 + 127 of `extra` into the spare buffer as two 64-column halves, on that buffer's full mbarrier.
__device__ __forceinline__ void pg_mlp_produce(const CUtensorMap& aMap, const CUtensorMap& bMap,
                                               const CUtensorMap* extra, int dim, int row0, int col0) {
    int steps = (dim + PG_MLP_TILE_DIMS - 1) / PG_MLP_TILE_DIMS;
    uint32_t stages = pg_mlp_stages();
    int items = steps + (extra != nullptr ? 1 : 0);
    for (int item = 0; item < items; item++) {
        int buffer = item % PG_MLP_STAGES;
        if (item >= PG_MLP_STAGES) {
            pg_mlp_wait(pg_mlp_empty(buffer), (uint32_t)((item / PG_MLP_STAGES - 1) & 1));
        }
        uint32_t full = pg_mlp_full(buffer);
        uint32_t to = stages + buffer * PG_MLP_STAGE_BYTES;
        asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n"
                     :: "r"(full), "n"(PG_MLP_STAGE_BYTES) : "memory");
        if (item < steps) {
            pg_mlp_tma_load(to, aMap, item * PG_MLP_TILE_DIMS, row0, full);
            pg_mlp_tma_load(to + PG_MLP_OPERAND_BYTES, bMap, item * PG_MLP_TILE_DIMS, col0, full);
        } else {
            pg_mlp_tma_load(to, *extra, col0, row0, full);
            pg_mlp_tma_load(to + PG_MLP_OPERAND_BYTES, *extra, col0 + 64, row0, full);
        }
    }
}

// A consumer warpgroup's acc = its 64 rows of the block's tile of A B^T. A step's products stay in flight while the
// next step's start; the buffer of a step is released once its products are done.
__device__ __forceinline__ void pg_mlp_consume(int dim, float (&acc)[16][4]) {
    uint32_t stages = pg_mlp_stages();
    int warpgroup = threadIdx.x >> 7;
    int steps = (dim + PG_MLP_TILE_DIMS - 1) / PG_MLP_TILE_DIMS;
    bool releases = (threadIdx.x & 31) == 0;
    for (int step = 0; step < steps; step++) {
        int buffer = step % PG_MLP_STAGES;
        pg_mlp_wait(pg_mlp_full(buffer), (uint32_t)((step / PG_MLP_STAGES) & 1));
        uint32_t stage = stages + buffer * PG_MLP_STAGE_BYTES;
        uint32_t aTile = stage + warpgroup * 64 * 128;
        uint32_t bTile = stage + PG_MLP_OPERAND_BYTES;
        pg_wgmma_pin(acc);
        asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
        for (int kk = 0; kk < 4; kk++) {
            pg_mlp_wgmma(acc, pg_wgmma_descriptor(aTile + 32 * kk), pg_wgmma_descriptor(bTile + 32 * kk),
                         step > 0 || kk > 0);
        }
        asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
        asm volatile("wgmma.wait_group.sync.aligned 1;\n" ::: "memory");
        pg_wgmma_pin(acc);
        if (step > 0 && releases) {
            pg_mbarrier_arrive(pg_mlp_empty((step - 1) % PG_MLP_STAGES));
        }
    }
    asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
    pg_wgmma_pin(acc);
    if (releases) {
        pg_mbarrier_arrive(pg_mlp_empty((steps - 1) % PG_MLP_STAGES));
    }
}

__device__ __forceinline__ uint32_t pg_mlp_pack(float lo, float hi) {
    __nv_bfloat162 pair = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&pair);
}

// Byte offset of 16-byte group g (columns 8 g .. 8 g + 7) of row r of a staged bf16 tile of 128 rows (the backward's
// 128 columns in a stage buffer, the forward's 256 in its staging buffer): parts of 64 columns (16 KB each, g / 8),
// rows of 128 bytes, group g % 8 stored at (g % 8) ^ (r % 8), the layout the tensor maps' 128-byte swizzle writes;
// the accumulator fragments' stores (8 rows x 4 words a warp) and the 16-byte row reads (8 groups of a row a
// quarter-warp) both hit 32 different banks.
__device__ __forceinline__ int pg_mlp_tile_offset(int row, int group) {
    return (group >> 3) * (PG_MLP_TILE_ROWS * 128) + row * 128 + (((group & 7) ^ (row & 7)) << 4);
}

// Stores eight values rounded to bf16 as one 16-byte word at element i (CudaLayerOps sends only row lengths that are
// multiples of 8 here, so every group of 8 columns is whole and 16-byte aligned).
__device__ __forceinline__ void pg_mlp_store8(pg_bf16* p, long long i, const float (&v)[8]) {
    *reinterpret_cast<uint4*>(p + i) = make_uint4(pg_mlp_pack(v[0], v[1]), pg_mlp_pack(v[2], v[3]),
                                                  pg_mlp_pack(v[4], v[5]), pg_mlp_pack(v[6], v[7]));
}

// Eight bf16 values from shared memory as floats.
__device__ __forceinline__ void pg_mlp_unpack8(const unsigned char* p, float (&v)[8]) {
    uint4 word = *reinterpret_cast<const uint4*>(p);
    const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&word);
#pragma unroll
    for (int k = 0; k < 4; k++) {
        v[2 * k] = __low2float(pairs[k]);
        v[2 * k + 1] = __high2float(pairs[k]);
    }
}

// Stores the consumer warpgroup's accumulators over N column groups of 8, rounded to bf16, into the staged tile at
// `staging` (pg_mlp_tile_offset's layout): the pair acc[nt][2 half], acc[nt][2 half + 1] is row (lane / 4) + 8 half
// of the warp's 16 rows of the warpgroup's 64, columns 8 nt + 2 (lane % 4) and the next.
template <int N>
__device__ __forceinline__ void pg_mlp_stage_fragments(const float (&acc)[N][4], unsigned char* staging) {
    int lane = threadIdx.x & 31;
    int fragmentRow = (threadIdx.x >> 7) * 64 + ((threadIdx.x >> 5) & 3) * 16 + (lane >> 2);
#pragma unroll
    for (int nt = 0; nt < N; nt++) {
#pragma unroll
        for (int half = 0; half < 2; half++) {
            *reinterpret_cast<uint32_t*>(staging + pg_mlp_tile_offset(fragmentRow + 8 * half, nt) + 4 * (lane & 3)) =
                    pg_mlp_pack(acc[nt][2 * half], acc[nt][2 * half + 1]);
        }
    }
}

// The block's tile of the product, rounded to bf16, handed over in row-contiguous groups of 8: the accumulators go
// through the last step's stage buffer, and each consumer warpgroup then calls emit(i, v, at) for the groups of its
// 64 rows inside the matrix (i the element index of the group's first column in the [rows, cols] output, `at` the
// group's pg_mlp_tile_offset; cols is a multiple of 8, so a group is wholly inside or outside), so that the global
// accesses are whole 16-byte words along rows.
template <typename Emit>
__device__ __forceinline__ void pg_mlp_epilogue(const float (&acc)[16][4], int rows, int cols, int row0, int col0,
                                                int steps, Emit emit) {
    int warpgroup = threadIdx.x >> 7;
    unsigned char* staged = pg_mlp_buffer(pg_mlp_staging_buffer(steps));
    // Both warpgroups' products of the last step are done before either overwrites its buffer (barrier 1: the 256
    // consumer threads).
    asm volatile("bar.sync 1, %0;\n" :: "n"(PG_MLP_CONSUMERS) : "memory");
    pg_mlp_stage_fragments(acc, staged);
    // The warpgroup's own rows only: a barrier of its 128 threads (ids 2 and 3).
    if (warpgroup == 0) {
        asm volatile("bar.sync 2, 128;\n" ::: "memory");
    } else {
        asm volatile("bar.sync 3, 128;\n" ::: "memory");
    }
    int threadOfGroup = threadIdx.x & 127;
#pragma unroll 4
    for (int pass = 0; pass < 64 * 16 / 128; pass++) {
        int e = threadOfGroup + pass * 128;
        int localRow = warpgroup * 64 + (e >> 4);
        int group = e & 15;
        int row = row0 + localRow;
        int col = col0 + group * 8;
        if (row < rows && col < cols) {
            int at = pg_mlp_tile_offset(localRow, group);
            float v[8];
            pg_mlp_unpack8(staged + at, v);
            emit((long long)row * cols + col, v, at);
        }
    }
}

// d (+)= A B^T for the warpgroup's 64 rows and the tile's 256 columns over 16 dims, both read through descriptors.
__device__ __forceinline__ void pg_mlp_forward_wgmma(float (&d)[32][4], uint64_t aDescriptor, uint64_t bDescriptor,
                                                     int accumulate) {
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
                 "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {"
                 "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "
                 "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "
                 "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "
                 "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "
                 "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "
                 "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "
                 "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "
                 "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
                 "}, %128, %129, p, 1, 1, 0, 0;\n}\n"
                 : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                   "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                   "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                   "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                   "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                   "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                   "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                   "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3]),
                   "+f"(d[8][0]), "+f"(d[8][1]), "+f"(d[8][2]), "+f"(d[8][3]),
                   "+f"(d[9][0]), "+f"(d[9][1]), "+f"(d[9][2]), "+f"(d[9][3]),
                   "+f"(d[10][0]), "+f"(d[10][1]), "+f"(d[10][2]), "+f"(d[10][3]),
                   "+f"(d[11][0]), "+f"(d[11][1]), "+f"(d[11][2]), "+f"(d[11][3]),
                   "+f"(d[12][0]), "+f"(d[12][1]), "+f"(d[12][2]), "+f"(d[12][3]),
                   "+f"(d[13][0]), "+f"(d[13][1]), "+f"(d[13][2]), "+f"(d[13][3]),
                   "+f"(d[14][0]), "+f"(d[14][1]), "+f"(d[14][2]), "+f"(d[14][3]),
                   "+f"(d[15][0]), "+f"(d[15][1]), "+f"(d[15][2]), "+f"(d[15][3]),
                   "+f"(d[16][0]), "+f"(d[16][1]), "+f"(d[16][2]), "+f"(d[16][3]),
                   "+f"(d[17][0]), "+f"(d[17][1]), "+f"(d[17][2]), "+f"(d[17][3]),
                   "+f"(d[18][0]), "+f"(d[18][1]), "+f"(d[18][2]), "+f"(d[18][3]),
                   "+f"(d[19][0]), "+f"(d[19][1]), "+f"(d[19][2]), "+f"(d[19][3]),
                   "+f"(d[20][0]), "+f"(d[20][1]), "+f"(d[20][2]), "+f"(d[20][3]),
                   "+f"(d[21][0]), "+f"(d[21][1]), "+f"(d[21][2]), "+f"(d[21][3]),
                   "+f"(d[22][0]), "+f"(d[22][1]), "+f"(d[22][2]), "+f"(d[22][3]),
                   "+f"(d[23][0]), "+f"(d[23][1]), "+f"(d[23][2]), "+f"(d[23][3]),
                   "+f"(d[24][0]), "+f"(d[24][1]), "+f"(d[24][2]), "+f"(d[24][3]),
                   "+f"(d[25][0]), "+f"(d[25][1]), "+f"(d[25][2]), "+f"(d[25][3]),
                   "+f"(d[26][0]), "+f"(d[26][1]), "+f"(d[26][2]), "+f"(d[26][3]),
                   "+f"(d[27][0]), "+f"(d[27][1]), "+f"(d[27][2]), "+f"(d[27][3]),
                   "+f"(d[28][0]), "+f"(d[28][1]), "+f"(d[28][2]), "+f"(d[28][3]),
                   "+f"(d[29][0]), "+f"(d[29][1]), "+f"(d[29][2]), "+f"(d[29][3]),
                   "+f"(d[30][0]), "+f"(d[30][1]), "+f"(d[30][2]), "+f"(d[30][3]),
                   "+f"(d[31][0]), "+f"(d[31][1]), "+f"(d[31][2]), "+f"(d[31][3])
                 : "l"(aDescriptor), "l"(bDescriptor), "r"(accumulate));
}

__device__ __forceinline__ uint32_t pg_mlp_forward_staging() {
    return pg_mlp_stages() + PG_MLP_STAGES * PG_MLP_FORWARD_STAGE_BYTES;
}

// The forward's mbarriers after its staging buffer: "full" i (the producer's bytes of stage i have landed), then
// "empty" i (every consumer warp is done with stage i).
__device__ __forceinline__ uint32_t pg_mlp_forward_full(int i) {
    return pg_mlp_forward_staging() + PG_MLP_FORWARD_STAGED_BYTES + 8 * i;
}

__device__ __forceinline__ uint32_t pg_mlp_forward_empty(int i) {
    return pg_mlp_forward_full(PG_MLP_STAGES + i);
}

// The forward's tiles of C in the order the blocks take them: the column tiles of a row tile next to each other, so
// that the blocks at work at once share their rows of A in L2.
struct PgMlpTiles {
    int rows, cols, colTiles, count, steps;
    __device__ PgMlpTiles(int rows, int cols, int dim)
        : rows(rows), cols(cols), colTiles((cols + PG_MLP_FORWARD_COLS - 1) / PG_MLP_FORWARD_COLS),
          count(colTiles * ((rows + PG_MLP_TILE_ROWS - 1) / PG_MLP_TILE_ROWS)),
          steps((dim + PG_MLP_TILE_DIMS - 1) / PG_MLP_TILE_DIMS) {}
    __device__ int row0(int tile) const { return tile / colTiles * PG_MLP_TILE_ROWS; }
    __device__ int col0(int tile) const { return tile % colTiles * PG_MLP_FORWARD_COLS; }
};

// The forward's producer (lane 0 of its warpgroup): for each of the block's tiles, fills the stage buffers with dims
// [64 s, 64 s + 64) of the tile's rows of A and B for each step s, running on into the next tile's steps.
__device__ __forceinline__ void pg_mlp_forward_produce(const CUtensorMap& aMap, const CUtensorMap& bMap,
                                                       const PgMlpTiles& tiles) {
    uint32_t stages = pg_mlp_stages();
    int item = 0;
    for (int tile = blockIdx.x; tile < tiles.count; tile += gridDim.x) {
        for (int step = 0; step < tiles.steps; step++, item++) {
            int buffer = item % PG_MLP_STAGES;
            if (item >= PG_MLP_STAGES) {
                pg_mlp_wait(pg_mlp_forward_empty(buffer), (uint32_t)((item / PG_MLP_STAGES - 1) & 1));
            }
            uint32_t full = pg_mlp_forward_full(buffer);
            uint32_t to = stages + buffer * PG_MLP_FORWARD_STAGE_BYTES;
            asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n"
                         :: "r"(full), "n"(PG_MLP_FORWARD_STAGE_BYTES) : "memory");
            pg_mlp_tma_load(to, aMap, step * PG_MLP_TILE_DIMS, tiles.row0(tile), full);
            pg_mlp_tma_load(to + PG_MLP_OPERAND_BYTES, bMap, step * PG_MLP_TILE_DIMS, tiles.col0(tile), full);
        }
    }
}

// Issues (and commits) the warpgroup's products of the forward's stage buffer at `stage` into acc.
__device__ __forceinline__ void pg_mlp_forward_issue(float (&acc)[32][4], uint32_t stage, bool accumulate) {
    uint32_t aTile = stage + (threadIdx.x >> 7) * 64 * 128;
    uint32_t bTile = stage + PG_MLP_OPERAND_BYTES;
    pg_wgmma_pin(acc);
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
    for (int kk = 0; kk < 4; kk++) {
        pg_mlp_forward_wgmma(acc, pg_wgmma_descriptor(aTile + 32 * kk), pg_wgmma_descriptor(bTile + 32 * kk),
                             accumulate || kk > 0);
    }
    asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

// The warpgroup's rows of the forward's tile, rounded to bf16, go through the staging buffer (pg_mlp_stage_fragments)
// and then out as emit(i, word) for each group of 8 columns inside the matrix (i the element index of its first
// column in the [rows, cols] output; cols is a multiple of 8, so a group is wholly inside or outside), whole 16-byte
// words along rows.
template <typename Emit>
__device__ __forceinline__ void pg_mlp_forward_epilogue(const float (&acc)[32][4], const PgMlpTiles& tiles, int row0,
                                                        int col0, Emit emit) {
    int warpgroup = threadIdx.x >> 7;
    unsigned char* staging =
            pg_mlp_dynamic + (pg_mlp_forward_staging() - (uint32_t)__cvta_generic_to_shared(pg_mlp_dynamic));
    pg_mlp_stage_fragments(acc, staging);
    // The warpgroup's own rows only: a barrier of its 128 threads (ids 2 and 3), before the reads and after them
    // (the next tile's fragments).
    asm volatile("bar.sync %0, 128;\n" :: "r"(2 + warpgroup) : "memory");
    int threadOfGroup = threadIdx.x & 127;
#pragma unroll 4
    for (int pass = 0; pass < 64 * 32 / 128; pass++) {
        int e = threadOfGroup + pass * 128;
        int localRow = warpgroup * 64 + (e >> 5);
        int group = e & 31;
        int row = row0 + localRow;
        int col = col0 + group * 8;
        if (row < tiles.rows && col < tiles.cols) {
            emit((long long)row * tiles.cols + col,
                 *reinterpret_cast<const uint4*>(staging + pg_mlp_tile_offset(localRow, group)));
        }
    }
    asm volatile("bar.sync %0, 128;\n" :: "r"(2 + warpgroup) : "memory");
}

// A forward consumer warpgroup's part of the block's tiles: for each, acc = its 64 rows x 256 columns of the tile of
// A B^T (a step's products stay in flight while the next step's start; a stage is released once its products are
// done), then the epilogue.
template <typename Emit>
__device__ __forceinline__ void pg_mlp_forward_consume(const PgMlpTiles& tiles, Emit emit) {
    uint32_t stages = pg_mlp_stages();
    bool releases = (threadIdx.x & 31) == 0;
    float acc[32][4];
    int item = 0;
    for (int tile = blockIdx.x; tile < tiles.count; tile += gridDim.x) {
        for (int step = 0; step < tiles.steps; step++, item++) {
            int buffer = item % PG_MLP_STAGES;
            pg_mlp_wait(pg_mlp_forward_full(buffer), (uint32_t)((item / PG_MLP_STAGES) & 1));
            pg_mlp_forward_issue(acc, stages + buffer * PG_MLP_FORWARD_STAGE_BYTES, step > 0);
            asm volatile("wgmma.wait_group.sync.aligned 1;\n" ::: "memory");
            pg_wgmma_pin(acc);
            if (step > 0 && releases) {
                pg_mbarrier_arrive(pg_mlp_forward_empty((item - 1) % PG_MLP_STAGES));
            }
        }
        asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
        pg_wgmma_pin(acc);
        if (releases) {
            pg_mbarrier_arrive(pg_mlp_forward_empty((item - 1) % PG_MLP_STAGES));
        }
        pg_mlp_forward_epilogue(acc, tiles, tiles.row0(tile), tiles.col0(tile), emit);
    }
}

// The forward's registers a thread, moved from its producer warpgroup to its consumers (setmaxnreg): 384 threads at
// launch get 168 each (65,536 / 384), the producer keeps 40 and each consumer thread takes 232 (128 x 40 + 256 x 232
// <= 65,536; a producer warp instead of a warpgroup would put 3 warps on one SM sub-partition, 168 registers each at
// most, and the 128 accumulators spill).
__device__ __forceinline__ void pg_mlp_producer_registers() {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n" ::: "memory");
}

__device__ __forceinline__ void pg_mlp_consumer_registers() {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n" ::: "memory");
}

// Stores the eight bf16 values of `word` at element i of h, and leaky_relu(v, slope)^2 of them at element i of a.
__device__ __forceinline__ void pg_mlp_store_activated(pg_bf16* h, pg_bf16* a, long long i, uint4 word, float slope) {
    *reinterpret_cast<uint4*>(h + i) = word;
    const uint32_t words[4] = {word.x, word.y, word.z, word.w};
    uint32_t activated[4];
#pragma unroll
    for (int k = 0; k < 4; k++) {
        float2 v = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&words[k]));
        float lo = v.x > 0.0f ? v.x : slope * v.x;
        float hi = v.y > 0.0f ? v.y : slope * v.y;
        activated[k] = pg_mlp_pack(lo * lo, hi * hi);
    }
    *reinterpret_cast<uint4*>(a + i) = make_uint4(activated[0], activated[1], activated[2], activated[3]);
}
#endif

// grid (min(tiles, SMs)) with tiles = ceil(hidden / 256) * ceil(rows / 128), block PG_MLP_FORWARD_THREADS, dynamic
// shared memory 1024 + PG_MLP_STAGES * PG_MLP_FORWARD_STAGE_BYTES + PG_MLP_FORWARD_STAGED_BYTES + 64 (alignment
// slack, the stages, the staging buffer, the mbarriers). h = x w^T and a = leaky_relu(h, slope)^2 of the rounded h,
// both [rows, hidden] bf16, stored. xMap: x as [rows, dim] (inner dim), box 64 x 128; wMap: w as [hidden, dim],
// box 64 x 256; both bf16 with the 128-byte swizzle.
extern "C" __global__ void __launch_bounds__(PG_MLP_FORWARD_THREADS, 1)
pg_mlp_hidden(const __grid_constant__ CUtensorMap xMap, const __grid_constant__ CUtensorMap wMap,
              pg_bf16* __restrict__ h, pg_bf16* __restrict__ a, int rows, int hidden, int dim, float slope) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    PgMlpTiles tiles(rows, hidden, dim);
    pg_mlp_init_barriers(pg_mlp_forward_full(0));
    if (threadIdx.x >= PG_MLP_CONSUMERS) {
        pg_mlp_producer_registers();
        if (threadIdx.x == PG_MLP_CONSUMERS) {
            pg_mlp_forward_produce(xMap, wMap, tiles);
        }
        return;
    }
    pg_mlp_consumer_registers();
    pg_mlp_forward_consume(tiles, [&](long long i, uint4 word) { pg_mlp_store_activated(h, a, i, word, slope); });
#else
    __trap();  // CudaLayerOps runs this kernel on sm_90 only.
#endif
}

// grid (ceil(hidden / 128), ceil(rows / 128)), block PG_MLP_THREADS, dynamic shared memory
// PG_MLP_STAGES * PG_MLP_STAGE_BYTES + 1024 + 64 (alignment slack, the buffers, the mbarriers). dH = dA * (h > 0 ?
// 2 : 2 slope^2) h, stored, with dA = dOut wT^T rounded to bf16 (as the unfused path's bf16 gradient of a), dOut
// [rows, dim] (the gradient of the MLP's output), wT [hidden, dim] (the output projection transposed), h and dH
// [rows, hidden] bf16 (leaky'(0) = slope, as in PyTorch and pg_leaky_relu_squared_backward). dOutMap: dOut as
// [rows, dim] (inner dim), wTMap: wT as [hidden, dim], hMap: h as [rows, hidden]; each bf16, box 64 x 128, the
// 128-byte swizzle.
extern "C" __global__ void __launch_bounds__(PG_MLP_THREADS, PG_MLP_BLOCKS_PER_SM)
pg_mlp_hidden_backward(const __grid_constant__ CUtensorMap dOutMap, const __grid_constant__ CUtensorMap wTMap,
                       const __grid_constant__ CUtensorMap hMap, pg_bf16* __restrict__ dH, int rows, int hidden,
                       int dim, float slope) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    int row0 = blockIdx.y * PG_MLP_TILE_ROWS;
    int col0 = blockIdx.x * PG_MLP_TILE_COLS;
    pg_mlp_init_barriers(pg_mlp_full(0));
    if (threadIdx.x >= PG_MLP_CONSUMERS) {
        if (threadIdx.x == PG_MLP_CONSUMERS) {
            pg_mlp_produce(dOutMap, wTMap, &hMap, dim, row0, col0);
        }
        return;
    }
    float acc[16][4];
    pg_mlp_consume(dim, acc);
    int steps = (dim + PG_MLP_TILE_DIMS - 1) / PG_MLP_TILE_DIMS;
    int spare = pg_mlp_spare_buffer(steps);
    const unsigned char* hTile = pg_mlp_buffer(spare);
    pg_mlp_wait(pg_mlp_full(spare), (uint32_t)((steps / PG_MLP_STAGES) & 1));
    float negativeFactor = 2.0f * slope * slope;
    pg_mlp_epilogue(acc, rows, hidden, row0, col0, steps, [&](long long i, float (&v)[8], int at) {
        float x[8];
        pg_mlp_unpack8(hTile + at, x);
#pragma unroll
        for (int k = 0; k < 8; k++) {
            v[k] *= (x[k] > 0.0f ? 2.0f : negativeFactor) * x[k];
        }
        pg_mlp_store8(dH, i, v);
    });
#else
    __trap();  // CudaLayerOps runs this kernel on sm_90 only.
#endif
}
