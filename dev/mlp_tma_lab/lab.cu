// Lab (not part of the build): times the TMA + warp-specialized pg_mlp_hidden / pg_mlp_hidden_backward
// (src/main/cuda/mlp_gemm.cu) against the cp.async kernels they replace (mlp_gemm_old.cu: main's a2b91b7 with
// pg_mlp renamed old_mlp) and against cuBLAS (cublasGemmEx, dlopen'd libcublas.so.13) + pg_leaky_relu_squared[_backward]
// (layer_ops.cu), same run, record shape; checks the new results bitwise against the old kernels' and against cuBLAS.
// Build: nvcc -O3 -std=c++17 -arch=sm_90a -I src/main/cuda -I dev/mlp_tma_lab dev/mlp_tma_lab/lab.cu -ldl
// variants/*.diff: the kernel changes measured slower (see mlp_gemm.cu's header), as patches on the kept kernel, with
// the lab (and CudaLayerOps) changes each needs; cluster-multicast.diff uses this lab's PG_MLP_CLUSTER hooks.
#include "layer_ops.cu"
#include "mlp_gemm.cu"
#include "mlp_gemm_old.cu"
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <vector>
#include <algorithm>

// Blocks of a cluster (a variant of mlp_gemm.cu defines it): the grid's x is a multiple of it, and A's boxes have
// 128 / LAB_CLUSTER rows.
#ifdef PG_MLP_CLUSTER
#define LAB_CLUSTER PG_MLP_CLUSTER
#define LAB_CLUSTER_DIMS __cluster_dims__(PG_MLP_CLUSTER, 1, 1)
#define LAB_CLUSTER_SYNC pg_mlp_cluster_sync()
#else
#define LAB_CLUSTER 1
#define LAB_CLUSTER_DIMS
#define LAB_CLUSTER_SYNC
#endif

// The product alone (C = A B^T stored in bf16), to tell the main loop's time from the epilogues'.
extern "C" __global__ void __launch_bounds__(PG_MLP_THREADS, PG_MLP_BLOCKS_PER_SM) LAB_CLUSTER_DIMS
lab_gemm(const __grid_constant__ CUtensorMap aMap, const __grid_constant__ CUtensorMap bMap, pg_bf16* c, int rows,
         int cols, int dim) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    int row0 = blockIdx.y * PG_MLP_TILE_ROWS;
    int col0 = blockIdx.x * PG_MLP_TILE_COLS;
    pg_mlp_init_barriers();
    if (threadIdx.x >= PG_MLP_CONSUMERS) {
        if (threadIdx.x == PG_MLP_CONSUMERS) pg_mlp_produce(aMap, bMap, nullptr, dim, row0, col0);
        LAB_CLUSTER_SYNC;
        return;
    }
    float acc[16][4];
    pg_mlp_consume(dim, acc);
    pg_mlp_epilogue(acc, rows, cols, row0, col0, (dim + 63) / 64, [&](long long i, float (&v)[8], int count,
                                                                    bool vector, int) {
        pg_mlp_store8(c, i, count, vector, v);
    });
    LAB_CLUSTER_SYNC;
#endif
}

extern "C" __global__ void __launch_bounds__(256, 2)
lab_old_gemm(const pg_bf16* a, const pg_bf16* b, pg_bf16* c, int rows, int cols, int dim) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
    int row0 = blockIdx.y * 128;
    int col0 = blockIdx.x * 128;
    float acc[16][4];
    old_mlp_product(a, rows, b, cols, dim, row0, col0, acc, [](int) {});
    old_mlp_epilogue(acc, rows, cols, row0, col0, (dim + 63) / 64, [&](long long i, float (&v)[8], int count,
                                                                    bool vector, int) {
        old_mlp_store8(c, i, count, vector, v);
    });
#endif
}

#define CHECK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { printf("CUDA %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); exit(1);} } while (0)

typedef int (*CreateFn)(void**);
typedef int (*GemmExFn)(void*, int, int, int, int, int, const void*, const void*, int, int, const void*, int, int,
                        const void*, void*, int, int, int, int);
typedef CUresult (*EncodeFn)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*, const cuuint64_t*,
                             const cuuint64_t*, const cuuint32_t*, const cuuint32_t*, CUtensorMapInterleave,
                             CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);
static void* cublasHandle;
static GemmExFn gemmEx;
static EncodeFn encode;

// A [rows, cols] row-major bf16 matrix as a tensor map with boxes of 64 columns x 128 rows, 128-byte swizzle.
static CUtensorMap mapOf(const pg_bf16* p, int rows, int cols, int boxRows = 128) {
    CUtensorMap m;
    cuuint64_t dims[2] = {(cuuint64_t)cols, (cuuint64_t)rows};
    cuuint64_t strides[1] = {(cuuint64_t)cols * 2};
    cuuint32_t box[2] = {64, (cuuint32_t)boxRows};
    cuuint32_t elementStrides[2] = {1, 1};
    CUresult r = encode(&m, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, (void*)p, dims, strides, box, elementStrides,
                        CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                        CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) { printf("cuTensorMapEncodeTiled %d\n", (int)r); exit(1); }
    return m;
}

// Row-major C[M,N] = A[M,K] B[N,K]^T, all bf16, float32 accumulation.
static void cublasNT(const pg_bf16* a, const pg_bf16* b, pg_bf16* c, int m, int n, int k) {
    float one = 1.0f, zero = 0.0f;
    int st = gemmEx(cublasHandle, 1, 0, n, m, k, &one, b, 14, k, a, 14, k, &zero, c, 14, n, 68, -1);
    if (st != 0) { printf("cublasGemmEx status %d\n", st); exit(1); }
}

__global__ void fill(pg_bf16* p, long long n, unsigned seed, float scale) {
    PG_FOR_EACH(i, n) {
        unsigned x = (unsigned)i * 2654435761u ^ seed;
        x ^= x >> 13; x *= 0x5bd1e995u; x ^= x >> 15;
        p[i] = __float2bfloat16((((x & 0xFFFFFF) / 16777216.0f) - 0.5f) * scale);
    }
}

__global__ void compare(const pg_bf16* x, const pg_bf16* y, long long n, float* out) {
    __shared__ float s[64];
    float maxAbs = 0, maxRef = 0;
    PG_FOR_EACH(i, n) {
        float a = __bfloat162float(x[i]), b = __bfloat162float(y[i]);
        maxAbs = fmaxf(maxAbs, fabsf(a - b));
        maxRef = fmaxf(maxRef, fabsf(b));
        if (!(a == a)) maxAbs = 1e30f;
    }
    for (int o = 16; o > 0; o >>= 1) { maxAbs = fmaxf(maxAbs, __shfl_xor_sync(~0u, maxAbs, o)); maxRef = fmaxf(maxRef, __shfl_xor_sync(~0u, maxRef, o)); }
    if ((threadIdx.x & 31) == 0) { s[threadIdx.x >> 5] = maxAbs; s[32 + (threadIdx.x >> 5)] = maxRef; }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 0; w < (int)blockDim.x / 32; w++) { atomicMax((int*)&out[0], __float_as_int(s[w])); atomicMax((int*)&out[1], __float_as_int(s[32 + w])); }
    }
}

static void report(const char* what, const pg_bf16* x, const pg_bf16* ref, long long n) {
    float* d; CHECK(cudaMalloc(&d, 8)); CHECK(cudaMemset(d, 0, 8));
    compare<<<1024, 256>>>(x, ref, n, d);
    float h[2]; CHECK(cudaMemcpy(h, d, 8, cudaMemcpyDeviceToHost)); cudaFree(d);
    printf("  %-34s max |diff| %.4g (max |ref| %.4g, rel %.3g)\n", what, h[0], h[1], h[0] / h[1]);
}

static int smem() { return PG_MLP_STAGES * PG_MLP_STAGE_BYTES + 1024 + 64; }
static int oldSmem() { return OLD_MLP_STAGES * OLD_MLP_STAGE_BYTES + 1024; }

static dim3 newGrid(int m, int n) {
    int x = (n + 127) / 128;
    return dim3((x + LAB_CLUSTER - 1) / LAB_CLUSTER * LAB_CLUSTER, (m + 127) / 128);
}
// The maps of a launch, encoded before its timing starts (mapsOf), so that the host's encoding is not timed.
struct Maps { CUtensorMap a, b, c; };
static Maps mapsOf(const pg_bf16* a, const pg_bf16* b, const pg_bf16* c, int m, int n, int k) {
    Maps maps;
    maps.a = mapOf(a, m, k, 128 / LAB_CLUSTER);
    maps.b = mapOf(b, n, k);
    if (c != nullptr) maps.c = mapOf(c, m, n);
    return maps;
}
static void fused(const Maps& maps, pg_bf16* h, pg_bf16* a, int m, int n, int k, float slope) {
    pg_mlp_hidden<<<newGrid(m, n), PG_MLP_THREADS, smem()>>>(maps.a, maps.b, h, a, m, n, k, slope);
}
static void fusedBackward(const Maps& maps, pg_bf16* dh, int m, int n, int k, float slope) {
    pg_mlp_hidden_backward<<<newGrid(m, n), PG_MLP_THREADS, smem()>>>(maps.a, maps.b, maps.c, dh, m, n, k, slope);
}
static void gemmOnly(const Maps& maps, pg_bf16* c, int m, int n, int k) {
    lab_gemm<<<newGrid(m, n), PG_MLP_THREADS, smem()>>>(maps.a, maps.b, c, m, n, k);
}
static void oldFused(const pg_bf16* x, const pg_bf16* w, pg_bf16* h, pg_bf16* a, int m, int n, int k, float slope) {
    dim3 grid((n + 127) / 128, (m + 127) / 128);
    old_mlp_hidden<<<grid, 256, oldSmem()>>>(x, w, h, a, m, n, k, slope);
}
static void oldFusedBackward(const pg_bf16* dy, const pg_bf16* wT, const pg_bf16* h, pg_bf16* dh, int m, int n, int k, float slope) {
    dim3 grid((n + 127) / 128, (m + 127) / 128);
    old_mlp_hidden_backward<<<grid, 256, oldSmem()>>>(dy, wT, h, dh, m, n, k, slope);
}
static void oldGemmOnly(const pg_bf16* a, const pg_bf16* b, pg_bf16* c, int m, int n, int k) {
    dim3 grid((n + 127) / 128, (m + 127) / 128);
    lab_old_gemm<<<grid, 256, oldSmem()>>>(a, b, c, m, n, k);
}
static void leaky(const pg_bf16* h, pg_bf16* a, long long n, float slope) {
    int blocks = (int)std::min<long long>((n / 4 + 255) / 256, 132 * 16);
    pg_leaky_relu_squared<<<blocks, 256>>>(h, PG_BF16, slope, a, PG_BF16, n);
}
static void leakyBackward(const pg_bf16* h, const pg_bf16* dA, pg_bf16* dh, long long n, float slope) {
    int blocks = (int)std::min<long long>((n / 4 + 255) / 256, 132 * 16);
    pg_leaky_relu_squared_backward<<<blocks, 256>>>(h, PG_BF16, slope, dA, PG_BF16, dh, PG_BF16 | PG_OVERWRITE, n);
}

static void checkShape(int m, int n, int k, float slope) {
    long long mn = (long long)m * n;
    pg_bf16 *x, *w, *dy, *wT, *h, *a, *h2, *a2, *dA, *dh, *dh2, *h3, *a3, *dh3, *c2, *c3;
    CHECK(cudaMalloc(&x, (size_t)m * k * 2)); CHECK(cudaMalloc(&dy, (size_t)m * k * 2));
    CHECK(cudaMalloc(&w, (size_t)n * k * 2)); CHECK(cudaMalloc(&wT, (size_t)n * k * 2));
    for (pg_bf16** p : {&h, &a, &h2, &a2, &dA, &dh, &dh2, &h3, &a3, &dh3, &c2, &c3}) { CHECK(cudaMalloc(p, mn * 2)); CHECK(cudaMemset(*p, 0xFF, mn * 2)); }
    fill<<<1024, 256>>>(x, (long long)m * k, 1, 4.0f); fill<<<1024, 256>>>(dy, (long long)m * k, 2, 0.02f);
    fill<<<1024, 256>>>(w, (long long)n * k, 3, 0.1f); fill<<<1024, 256>>>(wT, (long long)n * k, 4, 0.1f);
    cublasNT(x, w, h, m, n, k); leaky(h, a, mn, slope);
    cublasNT(dy, wT, dA, m, n, k); leakyBackward(h, dA, dh, mn, slope);
    fused(mapsOf(x, w, nullptr, m, n, k), h2, a2, m, n, k, slope);
    fusedBackward(mapsOf(dy, wT, h, m, n, k), dh2, m, n, k, slope);
    oldFused(x, w, h3, a3, m, n, k, slope); oldFusedBackward(dy, wT, h, dh3, m, n, k, slope);
    gemmOnly(mapsOf(dy, wT, nullptr, m, n, k), c2, m, n, k); oldGemmOnly(dy, wT, c3, m, n, k);
    CHECK(cudaDeviceSynchronize());
    printf("shape M %d N %d K %d\n", m, n, k);
    report("h new vs old (bitwise: 0)", h2, h3, mn); report("a new vs old", a2, a3, mn);
    report("dh new vs old", dh2, dh3, mn); report("gemm new vs old", c2, c3, mn);
    report("h new vs cuBLAS", h2, h, mn); report("a new vs cuBLAS+kernel", a2, a, mn);
    report("dh new vs cuBLAS+kernel", dh2, dh, mn); report("gemm new vs cuBLAS", c2, dA, mn);
    for (pg_bf16* p : {x, w, dy, wT, h, a, h2, a2, dA, dh, dh2, h3, a3, dh3, c2, c3}) cudaFree(p);
}

int main() {
    void* lib = dlopen("libcublas.so.13", RTLD_NOW);
    if (!lib) { printf("dlopen: %s\n", dlerror()); return 1; }
    ((CreateFn)dlsym(lib, "cublasCreate_v2"))(&cublasHandle);
    gemmEx = (GemmExFn)dlsym(lib, "cublasGemmEx");
    cudaDriverEntryPointQueryResult q;
    CHECK(cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", (void**)&encode, cudaEnableDefault, &q));
    CHECK(cudaFuncSetAttribute(pg_mlp_hidden, cudaFuncAttributeMaxDynamicSharedMemorySize, smem()));
    CHECK(cudaFuncSetAttribute(lab_gemm, cudaFuncAttributeMaxDynamicSharedMemorySize, smem()));
    CHECK(cudaFuncSetAttribute(pg_mlp_hidden_backward, cudaFuncAttributeMaxDynamicSharedMemorySize, smem()));
    CHECK(cudaFuncSetAttribute(old_mlp_hidden, cudaFuncAttributeMaxDynamicSharedMemorySize, oldSmem()));
    CHECK(cudaFuncSetAttribute(lab_old_gemm, cudaFuncAttributeMaxDynamicSharedMemorySize, oldSmem()));
    CHECK(cudaFuncSetAttribute(old_mlp_hidden_backward, cudaFuncAttributeMaxDynamicSharedMemorySize, oldSmem()));
    cudaFuncAttributes attr; cudaFuncGetAttributes(&attr, pg_mlp_hidden);
    int perSm = 0; cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, pg_mlp_hidden, PG_MLP_THREADS, smem());
    printf("new: cluster %d, stages %d, blocks/SM %d (occupancy %d), regs %d, local %zu, smem %d\n", LAB_CLUSTER, PG_MLP_STAGES, PG_MLP_BLOCKS_PER_SM, perSm, attr.numRegs, attr.localSizeBytes, smem());
    const float slope = 0.5f;
    checkShape(100, 136, 72, slope);
    checkShape(1000, 304, 200, slope);
    checkShape(4096, 2048, 512, slope);
    checkShape(98304, 2048, 512, slope);
    const int M = 98304, N = 2048, K = 512;
    long long mn = (long long)M * N;
    pg_bf16 *x, *w, *dy, *wT, *h, *a, *dA, *dh;
    CHECK(cudaMalloc(&x, (size_t)M * K * 2)); CHECK(cudaMalloc(&dy, (size_t)M * K * 2));
    CHECK(cudaMalloc(&w, (size_t)N * K * 2)); CHECK(cudaMalloc(&wT, (size_t)N * K * 2));
    for (pg_bf16** p : {&h, &a, &dA, &dh}) CHECK(cudaMalloc(p, mn * 2));
    fill<<<1024, 256>>>(x, (long long)M * K, 1, 4.0f); fill<<<1024, 256>>>(dy, (long long)M * K, 2, 0.02f);
    fill<<<1024, 256>>>(w, (long long)N * K, 3, 0.1f); fill<<<1024, 256>>>(wT, (long long)N * K, 4, 0.1f);
    const char* names[] = {"cuBLAS fwd gemm", "leakyReluSquared", "cuBLAS bwd gemm", "leakyReluSqBackward",
                           "old fused forward", "old fused backward", "old gemm (store C)",
                           "new fused forward", "new fused backward", "new gemm (store C)"};
    const int C = 10, R = 41;
    Maps forwardMaps = mapsOf(x, w, nullptr, M, N, K), backwardMaps = mapsOf(dy, wT, h, M, N, K);
    std::vector<float> t[C];
    cudaEvent_t e0, e1; cudaEventCreate(&e0); cudaEventCreate(&e1);
    for (int r = 0; r < R + 3; r++) {
        for (int c = 0; c < C; c++) {
            cudaEventRecord(e0);
            switch (c) {
                case 0: cublasNT(x, w, h, M, N, K); break;
                case 1: leaky(h, a, mn, slope); break;
                case 2: cublasNT(dy, wT, dA, M, N, K); break;
                case 3: leakyBackward(h, dA, dh, mn, slope); break;
                case 4: oldFused(x, w, h, a, M, N, K, slope); break;
                case 5: oldFusedBackward(dy, wT, h, dh, M, N, K, slope); break;
                case 6: oldGemmOnly(x, w, dA, M, N, K); break;
                case 7: fused(forwardMaps, h, a, M, N, K, slope); break;
                case 8: fusedBackward(backwardMaps, dh, M, N, K, slope); break;
                case 9: gemmOnly(forwardMaps, dA, M, N, K); break;
            }
            cudaEventRecord(e1); CHECK(cudaEventSynchronize(e1));
            float ms; cudaEventElapsedTime(&ms, e0, e1);
            if (r >= 3) t[c].push_back(ms);
        }
    }
    CHECK(cudaGetLastError());
    float med[C];
    for (int c = 0; c < C; c++) { std::sort(t[c].begin(), t[c].end()); med[c] = t[c][R / 2];
        printf("%-22s median %.4f ms  min %.4f  (%.0f TFLOP/s as GEMM)\n", names[c], med[c], t[c][0], 2.0 * M * N * K / med[c] / 1e9); }
    printf("forward:  unfused %.4f ms, old fused %.4f ms, new fused %.4f ms\n", med[0] + med[1], med[4], med[7]);
    printf("backward: unfused %.4f ms, old fused %.4f ms, new fused %.4f ms\n", med[2] + med[3], med[5], med[8]);
    return 0;
}
