// The MLP's first product with its activation in the epilogue (io.pgolf.gpu.cuda.CudaLayerOps.mlpHidden and
// mlpHiddenBackward): C = A B^T over bf16 operands, A [rows, dim] and B [hidden, dim] both row-major (dims contiguous),
// float32 accumulators, on Hopper's warpgroup MMAs (sm_90a).
//   forward:  h = x fc^T stored in bf16, and a = leaky_relu(h, slope)^2 of the stored (rounded) h, both stored;
//   backward: dH = dA * leaky_relu^2'(h) stored, dA = dY proj rounded to bf16 (B = proj transposed, [hidden, dim]),
//             so that dA never goes through memory.
// Against cuBLAS and then the elementwise kernel this saves reading h back in the forward (0.4 GB at the record's
// 98,304 x 2048) and writing and reading dA in the backward (0.8 GB), for a product slower than cuBLAS's.
// A block (two warpgroups, 256 threads, two blocks per SM so that one's epilogue overlaps the other's products) owns
// a tile of 128 rows x 128 columns of C, warpgroup g its rows 64 g .. 64 g + 63; the dims are streamed in steps of
// 64 through OLD_MLP_STAGES buffers with cp.async (copies of step s + 2 run while the tensor cores take step s). The
// epilogue stages the tile in shared memory so that global memory sees whole 16-byte words along rows (storing the
// accumulator fragments' 4-byte pairs straight away took 1.15 ms for the forward against 0.52); the backward copies
// its tile of h into a spare buffer during the last step (0.52 ms against 0.61 reading h in the epilogue).
// H100 lab, record shape (98,304 x 2048 x 512), same run: forward 0.515 ms against cuBLAS 0.329 + leakyReluSquared
// 0.293, backward 0.521 against 0.330 + 0.428; the product alone (bf16 C) takes 0.428, cuBLAS's 0.33. A producer warp
// (or two) copying for the two warpgroups through mbarriers was slower (0.67 / 0.85 ms with two): too few threads to
// issue the cp.async copies, and two blocks per SM leave no registers for a producer warpgroup.
// Rows, columns and dims past the operands' ends are zero-filled in the buffers and never stored; dim must be a
// multiple of 8 (16-byte copies): CudaLayerOps sends other shapes, and other GPUs, to the composed path.


typedef __nv_bfloat16 pg_bf16;

#define OLD_MLP_TILE_ROWS 128
#define OLD_MLP_TILE_COLS 128
#define OLD_MLP_TILE_DIMS 64
#define OLD_MLP_THREADS 256
// Buffers of the streamed dims (copies run two steps ahead) and blocks per SM (2 x 97 KB of shared memory, at most
// 128 registers a thread). H100 lab at the record shape (fused backward): 3 buffers and 2 blocks 0.615 ms, 2 and 2
// 0.753, 4 and 1 0.935; keeping one step's products in flight across the next barrier (3 and 2) 0.752.
#define OLD_MLP_STAGES 3
#define OLD_MLP_BLOCKS_PER_SM 2
// One operand's buffer: 128 rows of 64 dims, 128 bytes a row.
#define OLD_MLP_OPERAND_BYTES (OLD_MLP_TILE_ROWS * OLD_MLP_TILE_DIMS * 2)
#define OLD_MLP_STAGE_BYTES (2 * OLD_MLP_OPERAND_BYTES)

extern __shared__ __align__(128) unsigned char old_mlp_dynamic[];

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
// Chunk c (16 bytes) of buffer row r sits at chunk c ^ (r % 8): on 1024-byte aligned buffers this is wgmma's 128-byte
// swizzle, and the eight rows a warp's copies hit at once fall in different banks.
__device__ __forceinline__ uint32_t old_mlp_offset(int row, int chunk) {
    return (uint32_t)(row * 128 + ((chunk ^ (row & 7)) << 4));
}

// wgmma descriptor of a K-major buffer from `address`: 128-byte swizzle, 1024 bytes between groups of 8 rows.
__device__ __forceinline__ uint64_t old_mlp_descriptor(uint32_t address) {
    return (uint64_t)((address & 0x3FFFF) >> 4) | (uint64_t)1 << 16 | (uint64_t)(1024 >> 4) << 32 |
           (uint64_t)1 << 62;
}

// Starts copying dims [dim0, dim0 + 64) of the block's 128 rows of A and of B into the stage at `stage` (A's buffer,
// then B's); rows past `aRows` / `bRows` and dims past `dim` become zeros. Thread t copies chunk t % 8 of rows
// t / 8 + 32 p (p = 0..3) of each operand; `aRow` / `bRow` are its first rows (row0 + t / 8 of each operand).
__device__ __forceinline__ void old_mlp_copy_stage(uint32_t stage, const pg_bf16* a, int aRows, int aRow,
                                                  const pg_bf16* b, int bRows, int bRow, int dim, int dim0) {
    int chunk = threadIdx.x & 7;
    int sourceDim = dim0 + chunk * 8;
    bool dimValid = sourceDim < dim;
    uint32_t to = stage + old_mlp_offset(threadIdx.x >> 3, chunk);
#pragma unroll
    for (int p = 0; p < OLD_MLP_TILE_ROWS / 32; p++) {
        bool valid = dimValid && aRow + 32 * p < aRows;
        const pg_bf16* from = valid ? a + (long long)(aRow + 32 * p) * dim + sourceDim : a;
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
                     :: "r"(to + p * 32 * 128), "l"(from), "r"(valid ? 16 : 0) : "memory");
    }
#pragma unroll
    for (int p = 0; p < OLD_MLP_TILE_ROWS / 32; p++) {
        bool valid = dimValid && bRow + 32 * p < bRows;
        const pg_bf16* from = valid ? b + (long long)(bRow + 32 * p) * dim + sourceDim : b;
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
                     :: "r"(to + OLD_MLP_OPERAND_BYTES + p * 32 * 128), "l"(from), "r"(valid ? 16 : 0) : "memory");
    }
}

__device__ __forceinline__ void old_mlp_commit() {
    asm volatile("cp.async.commit_group;\n" ::: "memory");
}

// d (+)= A B^T for the warpgroup's 64 rows and the tile's 128 columns over 16 dims, both read through descriptors.
__device__ __forceinline__ void old_mlp_wgmma(float (&d)[16][4], uint64_t aDescriptor, uint64_t bDescriptor,
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

// Ties the accumulators to this point of the program, so that no read of them moves above a wgmma wait.
__device__ __forceinline__ void old_mlp_pin(float (&d)[16][4]) {
#pragma unroll
    for (int nt = 0; nt < 16; nt++) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            asm volatile("" : "+f"(d[nt][i])::"memory");
        }
    }
}

// The first stage buffer, 1024-byte aligned.
__device__ __forceinline__ uint32_t old_mlp_stages() {
    return ((uint32_t)__cvta_generic_to_shared(old_mlp_dynamic) + 1023u) & ~1023u;
}

// Stage buffer i as a generic pointer.
__device__ __forceinline__ unsigned char* old_mlp_buffer(int i) {
    uint32_t rawShared = (uint32_t)__cvta_generic_to_shared(old_mlp_dynamic);
    return old_mlp_dynamic + (old_mlp_stages() - rawShared) + i * OLD_MLP_STAGE_BYTES;
}

// The stage buffers of the epilogue once `steps` steps are done: the one the last step read (staging the tile), and
// one that no copy fills after the last step's barrier (for what the epilogue reads besides).
__device__ __forceinline__ int old_mlp_staging_buffer(int steps) {
    return (steps - 1) % OLD_MLP_STAGES;
}

__device__ __forceinline__ int old_mlp_spare_buffer(int steps) {
    return steps % OLD_MLP_STAGES;
}

// acc = the warpgroup's 64 rows of the block's tile of A B^T. At the last step, once the products are started,
// prefetch(spare) may start cp.async copies into stage buffer `spare` (old_mlp_spare_buffer), which land before the
// epilogue's first barrier.
template <typename Prefetch>
__device__ __forceinline__ void old_mlp_product(const pg_bf16* a, int aRows, const pg_bf16* b, int bRows, int dim,
                                               int row0, int col0, float (&acc)[16][4], Prefetch prefetch) {
    constexpr int STAGES = OLD_MLP_STAGES;
    uint32_t stages = old_mlp_stages();
    int warpgroup = threadIdx.x >> 7;
    int steps = (dim + OLD_MLP_TILE_DIMS - 1) / OLD_MLP_TILE_DIMS;
    int aRow = row0 + (threadIdx.x >> 3);
    int bRow = col0 + (threadIdx.x >> 3);
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < steps) {
            old_mlp_copy_stage(stages + s * OLD_MLP_STAGE_BYTES, a, aRows, aRow, b, bRows, bRow, dim,
                              s * OLD_MLP_TILE_DIMS);
        }
        old_mlp_commit();
    }
    for (int step = 0; step < steps; step++) {
        // This thread's copies of `step` have landed once at most STAGES - 2 younger groups are in flight; the proxy
        // fence shows them to the tensor cores (async proxy); after the barrier everyone's have landed, and every
        // warpgroup has finished the products of step - 1.
        asm volatile("cp.async.wait_group %0;\n" :: "n"(STAGES - 2) : "memory");
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
        __syncthreads();
        uint32_t stage = stages + (step % STAGES) * OLD_MLP_STAGE_BYTES;
        uint32_t aTile = stage + warpgroup * 64 * 128;
        uint32_t bTile = stage + OLD_MLP_OPERAND_BYTES;
        old_mlp_pin(acc);
        asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
        for (int kk = 0; kk < 4; kk++) {
            old_mlp_wgmma(acc, old_mlp_descriptor(aTile + 32 * kk), old_mlp_descriptor(bTile + 32 * kk),
                         step > 0 || kk > 0);
        }
        asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
        // The buffer refilled is the one step - 1 read.
        int next = step + STAGES - 1;
        if (next < steps) {
            old_mlp_copy_stage(stages + (next % STAGES) * OLD_MLP_STAGE_BYTES, a, aRows, aRow, b, bRows, bRow, dim,
                              next * OLD_MLP_TILE_DIMS);
        }
        if (step == steps - 1) {
            prefetch(old_mlp_spare_buffer(steps));
        }
        old_mlp_commit();
        asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
        old_mlp_pin(acc);
    }
}

__device__ __forceinline__ uint32_t old_mlp_pack(float lo, float hi) {
    __nv_bfloat162 pair = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t*>(&pair);
}

// Byte offset of 16-byte group g (columns 8 g .. 8 g + 7) of row r of a 128 x 128 bf16 tile in a stage buffer: rows
// of 256 bytes, group g stored at g ^ (r % 16), so that the accumulator fragments' stores (8 rows x 4 words a warp)
// and the 16-byte row reads (8 groups of a row a quarter-warp) both hit 32 different banks.
__device__ __forceinline__ int old_mlp_tile_offset(int row, int group) {
    return row * 256 + ((group ^ (row & 15)) << 4);
}

// Eight consecutive elements of a [rows, cols] bf16 matrix from element i, `count` of them inside it (8, or fewer at
// the right edge); `vector` when the row length keeps every group of 8 16-byte aligned.
__device__ __forceinline__ void old_mlp_load8(const pg_bf16* p, long long i, int count, bool vector, float (&v)[8]) {
    if (vector && count == 8) {
        uint4 word = *reinterpret_cast<const uint4*>(p + i);
        const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&word);
#pragma unroll
        for (int k = 0; k < 4; k++) {
            v[2 * k] = __low2float(pairs[k]);
            v[2 * k + 1] = __high2float(pairs[k]);
        }
    } else {
#pragma unroll
        for (int k = 0; k < 8; k++) {
            v[k] = k < count ? __bfloat162float(p[i + k]) : 0.0f;
        }
    }
}

__device__ __forceinline__ void old_mlp_store8(pg_bf16* p, long long i, int count, bool vector, const float (&v)[8]) {
    if (vector && count == 8) {
        uint4 word = make_uint4(old_mlp_pack(v[0], v[1]), old_mlp_pack(v[2], v[3]), old_mlp_pack(v[4], v[5]),
                                old_mlp_pack(v[6], v[7]));
        *reinterpret_cast<uint4*>(p + i) = word;
    } else {
#pragma unroll
        for (int k = 0; k < 8; k++) {
            if (k < count) {
                p[i + k] = __float2bfloat16_rn(v[k]);
            }
        }
    }
}

// The block's tile of the product, rounded to bf16, handed over in row-contiguous groups of 8: the accumulators go
// through stage buffer `staging` (the last step's, free once both warpgroups' products are done), and each warpgroup
// then calls emit(i, v, count, vector, at) for the groups of its 64 rows (i the element index of the group's first
// column in the [rows, cols] output, count its columns inside the matrix, vector as old_mlp_load8's, `at` the group's
// old_mlp_tile_offset), so that the global accesses are whole 16-byte words along rows. Accumulator i of column tile
// nt sits at row (lane / 4) + 8 (i / 2) of the warp's 16 and column 8 nt + 2 (lane % 4) + i % 2. The barrier at the
// start also waits for the copies the product's prefetch started.
template <typename Emit>
__device__ __forceinline__ void old_mlp_epilogue(const float (&acc)[16][4], int rows, int cols, int row0, int col0,
                                                int steps, Emit emit) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    int warpgroup = warp >> 2;
    unsigned char* staged = old_mlp_buffer(old_mlp_staging_buffer(steps));
    asm volatile("cp.async.wait_all;\n" ::: "memory");
    __syncthreads();
    int fragmentRow = warpgroup * 64 + (warp & 3) * 16 + (lane >> 2);
#pragma unroll
    for (int nt = 0; nt < 16; nt++) {
        int byteInGroup = 4 * (lane & 3);
#pragma unroll
        for (int half = 0; half < 2; half++) {
            *reinterpret_cast<uint32_t*>(staged + old_mlp_tile_offset(fragmentRow + 8 * half, nt) + byteInGroup) =
                    old_mlp_pack(acc[nt][2 * half], acc[nt][2 * half + 1]);
        }
    }
    // The warpgroup's own rows only: a barrier of its 128 threads (ids 1 and 2; 0 is __syncthreads').
    if (warpgroup == 0) {
        asm volatile("bar.sync 1, 128;\n" ::: "memory");
    } else {
        asm volatile("bar.sync 2, 128;\n" ::: "memory");
    }
    bool vector = cols % 8 == 0;
    int threadOfGroup = threadIdx.x & 127;
#pragma unroll 4
    for (int pass = 0; pass < 64 * 16 / 128; pass++) {
        int e = threadOfGroup + pass * 128;
        int localRow = warpgroup * 64 + (e >> 4);
        int group = e & 15;
        int row = row0 + localRow;
        int col = col0 + group * 8;
        if (row < rows && col < cols) {
            int at = old_mlp_tile_offset(localRow, group);
            uint4 word = *reinterpret_cast<const uint4*>(staged + at);
            const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&word);
            float v[8];
#pragma unroll
            for (int k = 0; k < 4; k++) {
                v[2 * k] = __low2float(pairs[k]);
                v[2 * k + 1] = __high2float(pairs[k]);
            }
            emit((long long)row * cols + col, v, min(8, cols - col), vector, at);
        }
    }
}

// Eight bf16 values from shared memory as floats.
__device__ __forceinline__ void old_mlp_unpack8(const unsigned char* p, float (&v)[8]) {
    uint4 word = *reinterpret_cast<const uint4*>(p);
    const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&word);
#pragma unroll
    for (int k = 0; k < 4; k++) {
        v[2 * k] = __low2float(pairs[k]);
        v[2 * k + 1] = __high2float(pairs[k]);
    }
}
#endif

// grid (ceil(hidden / 128), ceil(rows / 128)), block OLD_MLP_THREADS, dynamic shared memory
// OLD_MLP_STAGES * OLD_MLP_STAGE_BYTES + 1024. h = x w^T and a = leaky_relu(h, slope)^2 of the rounded h, both
// [rows, hidden] bf16, stored.
extern "C" __global__ void __launch_bounds__(OLD_MLP_THREADS, OLD_MLP_BLOCKS_PER_SM)
old_mlp_hidden(const pg_bf16* __restrict__ x, const pg_bf16* __restrict__ w, pg_bf16* __restrict__ h,
              pg_bf16* __restrict__ a, int rows, int hidden, int dim, float slope) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    int row0 = blockIdx.y * OLD_MLP_TILE_ROWS;
    int col0 = blockIdx.x * OLD_MLP_TILE_COLS;
    float acc[16][4];
    old_mlp_product(x, rows, w, hidden, dim, row0, col0, acc, [](int) {});
    int steps = (dim + OLD_MLP_TILE_DIMS - 1) / OLD_MLP_TILE_DIMS;
    old_mlp_epilogue(acc, rows, hidden, row0, col0, steps, [&](long long i, float (&v)[8], int count, bool vector,
                                                              int) {
        old_mlp_store8(h, i, count, vector, v);
#pragma unroll
        for (int k = 0; k < 8; k++) {
            float l = v[k] > 0.0f ? v[k] : slope * v[k];
            v[k] = l * l;
        }
        old_mlp_store8(a, i, count, vector, v);
    });
#else
    __trap();  // CudaLayerOps runs this kernel on sm_90 only.
#endif
}

// grid, block and shared memory as old_mlp_hidden's. dH = dA * (h > 0 ? 2 : 2 slope^2) h, stored, with dA = dOut wT^T
// rounded to bf16 (as the unfused path's bf16 gradient of a), dOut [rows, dim] (the gradient of the MLP's output),
// wT [hidden, dim] (the output projection transposed), h and dH [rows, hidden] bf16 (leaky'(0) = slope, as in
// PyTorch and pg_leaky_relu_squared_backward).
extern "C" __global__ void __launch_bounds__(OLD_MLP_THREADS, OLD_MLP_BLOCKS_PER_SM)
old_mlp_hidden_backward(const pg_bf16* __restrict__ dOut, const pg_bf16* __restrict__ wT,
                       const pg_bf16* __restrict__ h, pg_bf16* __restrict__ dH, int rows, int hidden, int dim,
                       float slope) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    int row0 = blockIdx.y * OLD_MLP_TILE_ROWS;
    int col0 = blockIdx.x * OLD_MLP_TILE_COLS;
    float acc[16][4];
    // With rows of whole 16-byte groups, the block's tile of h is copied into the spare buffer during the last step
    // (laid out as the staged tile), so that the epilogue does not wait for it.
    bool prefetched = hidden % 8 == 0;
    old_mlp_product(dOut, rows, wT, hidden, dim, row0, col0, acc, [&](int spare) {
        if (prefetched) {
            unsigned char* tile = old_mlp_buffer(spare);
#pragma unroll 1
            for (int pass = 0; pass < OLD_MLP_TILE_ROWS * 16 / OLD_MLP_THREADS; pass++) {
                int e = threadIdx.x + pass * OLD_MLP_THREADS;
                int localRow = e >> 4;
                int group = e & 15;
                int row = row0 + localRow;
                int col = col0 + group * 8;
                bool valid = row < rows && col < hidden;
                const pg_bf16* from = valid ? h + (long long)row * hidden + col : h;
                asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
                             :: "r"((uint32_t)__cvta_generic_to_shared(tile + old_mlp_tile_offset(localRow, group))),
                                "l"(from), "r"(valid ? 16 : 0) : "memory");
            }
        }
    });
    int steps = (dim + OLD_MLP_TILE_DIMS - 1) / OLD_MLP_TILE_DIMS;
    const unsigned char* hTile = old_mlp_buffer(old_mlp_spare_buffer(steps));
    float negativeFactor = 2.0f * slope * slope;
    old_mlp_epilogue(acc, rows, hidden, row0, col0, steps, [&](long long i, float (&v)[8], int count, bool vector,
                                                              int at) {
        float x[8];
        if (prefetched) {
            old_mlp_unpack8(hTile + at, x);
        } else {
            old_mlp_load8(h, i, count, vector, x);
        }
#pragma unroll
        for (int k = 0; k < 8; k++) {
            v[k] *= (x[k] > 0.0f ? 2.0f : negativeFactor) * x[k];
        }
        old_mlp_store8(dH, i, count, vector, v);
    });
#else
    __trap();  // CudaLayerOps runs this kernel on sm_90 only.
#endif
}
