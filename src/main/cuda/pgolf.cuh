// Shared by every pgolf kernel file. Tensors travel as (pointer, dtype code) pairs so that one kernel serves the
// F32 / BF16 combinations the model uses (bf16 activations, float32 parameters, gradients and optimizer state);
// the dtype is uniform across a launch, so its branch costs little next to the memory traffic.
#pragma once
#include <cuda_bf16.h>
#include <stdint.h>

// Must equal io.pgolf.gpu.DType's ordinals.
#define PG_F32 0
#define PG_BF16 1
#define PG_I32 2
// Set on a gradient output's dtype code when the tensor is logically zero but was never filled (CudaTensor's
// pending zero): pg_accumulate then stores instead of adding, which saves the fill and the read. Only an operand
// that the kernel writes whole, through pg_accumulate / pg_accumulate_vec alone, may carry it.
#define PG_OVERWRITE 16
#define PG_DTYPE_MASK 15

__device__ __forceinline__ bool pg_is_bf16(int dtype) {
    return (dtype & PG_DTYPE_MASK) == PG_BF16;
}

__device__ __forceinline__ float pg_load(const void* p, int dtype, long long i) {
    if (pg_is_bf16(dtype)) {
        return __bfloat162float(reinterpret_cast<const __nv_bfloat16*>(p)[i]);
    }
    return reinterpret_cast<const float*>(p)[i];
}

__device__ __forceinline__ void pg_store(void* p, int dtype, long long i, float v) {
    if (pg_is_bf16(dtype)) {
        reinterpret_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(v);
    } else {
        reinterpret_cast<float*>(p)[i] = v;
    }
}

// p[i] += v in p's type (a bf16 gradient rounds its sum, as torch's bf16 autograd does); p[i] = v under
// PG_OVERWRITE.
__device__ __forceinline__ void pg_accumulate(void* p, int dtype, long long i, float v) {
    pg_store(p, dtype, i, (dtype & PG_OVERWRITE) ? v : pg_load(p, dtype, i) + v);
}

// Rounds a float to the nearest bfloat16, ties to even, kept as a float (Java's Bfloat16.round).
__device__ __forceinline__ float pg_round_bf16(float v) {
    return __bfloat162float(__float2bfloat16_rn(v));
}

__device__ __forceinline__ float pg_warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    return v;
}

__device__ __forceinline__ double pg_warp_sum_double(double v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, offset);
    }
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the total. `scratch` holds 32
// floats of shared memory; the call begins and ends with a barrier so it may be used twice in a row.
__device__ __forceinline__ float pg_block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    int warps = blockDim.x >> 5;
    __syncthreads();
    v = pg_warp_sum(v);
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    float total = lane < warps ? scratch[lane] : 0.0f;
    return pg_warp_sum(total);
}

// A grid-stride loop over n elements.
#define PG_FOR_EACH(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)
