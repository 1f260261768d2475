// Vectorized access to (pointer, dtype) tensors for the layer and optimizer kernels: VEC consecutive values move in
// one load or store (float4 / float2 for F32, two float4 for 8 of them; 16, 8 or 4 bytes of bfloat16 for BF16), so a
// warp reads whole 128-byte lines with a fraction of the instructions. A kernel takes the vector path only where
// every operand it touches that way is aligned to VEC values (and its row width a multiple of VEC); otherwise it runs
// the same body with VEC = 1.
#pragma once
#include "pgolf.cuh"
#include <stdio.h>

// A compile-time vector width, passed to generic lambdas so that one body serves both paths.
template <int N>
struct pg_vec_width {
    static constexpr int value = N;
};

// v[0..VEC) = p[i..i+VEC) as floats; i must be a multiple of VEC and p aligned (pg_aligned).
template <int VEC>
__device__ __forceinline__ void pg_load_vec(const void* p, int dtype, long long i, float* v) {
    if constexpr (VEC == 8) {
        if (pg_is_bf16(dtype)) {
            uint4 raw = *reinterpret_cast<const uint4*>(reinterpret_cast<const __nv_bfloat16*>(p) + i);
            const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
            for (int k = 0; k < 4; k++) {
                float2 f = __bfloat1622float2(pairs[k]);
                v[2 * k] = f.x;
                v[2 * k + 1] = f.y;
            }
        } else {
            pg_load_vec<4>(p, dtype, i, v);
            pg_load_vec<4>(p, dtype, i + 4, v + 4);
        }
    } else if constexpr (VEC == 4) {
        if (pg_is_bf16(dtype)) {
            // One 8-byte access: a struct of two bfloat162 would compile to two 4-byte ones.
            uint2 raw = *reinterpret_cast<const uint2*>(reinterpret_cast<const __nv_bfloat16*>(p) + i);
            const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&raw);
            float2 lo = __bfloat1622float2(pairs[0]);
            float2 hi = __bfloat1622float2(pairs[1]);
            v[0] = lo.x;
            v[1] = lo.y;
            v[2] = hi.x;
            v[3] = hi.y;
        } else {
            float4 f = *reinterpret_cast<const float4*>(reinterpret_cast<const float*>(p) + i);
            v[0] = f.x;
            v[1] = f.y;
            v[2] = f.z;
            v[3] = f.w;
        }
    } else if constexpr (VEC == 2) {
        if (pg_is_bf16(dtype)) {
            float2 f = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(
                    reinterpret_cast<const __nv_bfloat16*>(p) + i));
            v[0] = f.x;
            v[1] = f.y;
        } else {
            float2 f = *reinterpret_cast<const float2*>(reinterpret_cast<const float*>(p) + i);
            v[0] = f.x;
            v[1] = f.y;
        }
    } else {
        static_assert(VEC == 1, "vector widths are 1, 2, 4 and 8");
        v[0] = pg_load(p, dtype, i);
    }
}

// p[i..i+VEC) = v, rounded to p's type.
template <int VEC>
__device__ __forceinline__ void pg_store_vec(void* p, int dtype, long long i, const float* v) {
    if constexpr (VEC == 8) {
        if (pg_is_bf16(dtype)) {
            uint4 raw;
            __nv_bfloat162* pairs = reinterpret_cast<__nv_bfloat162*>(&raw);
#pragma unroll
            for (int k = 0; k < 4; k++) {
                pairs[k] = __floats2bfloat162_rn(v[2 * k], v[2 * k + 1]);
            }
            *reinterpret_cast<uint4*>(reinterpret_cast<__nv_bfloat16*>(p) + i) = raw;
        } else {
            pg_store_vec<4>(p, dtype, i, v);
            pg_store_vec<4>(p, dtype, i + 4, v + 4);
        }
    } else if constexpr (VEC == 4) {
        if (pg_is_bf16(dtype)) {
            uint2 raw;
            __nv_bfloat162* pairs = reinterpret_cast<__nv_bfloat162*>(&raw);
            pairs[0] = __floats2bfloat162_rn(v[0], v[1]);
            pairs[1] = __floats2bfloat162_rn(v[2], v[3]);
            *reinterpret_cast<uint2*>(reinterpret_cast<__nv_bfloat16*>(p) + i) = raw;
        } else {
            *reinterpret_cast<float4*>(reinterpret_cast<float*>(p) + i) = make_float4(v[0], v[1], v[2], v[3]);
        }
    } else if constexpr (VEC == 2) {
        if (pg_is_bf16(dtype)) {
            *reinterpret_cast<__nv_bfloat162*>(reinterpret_cast<__nv_bfloat16*>(p) + i) =
                    __floats2bfloat162_rn(v[0], v[1]);
        } else {
            *reinterpret_cast<float2*>(reinterpret_cast<float*>(p) + i) = make_float2(v[0], v[1]);
        }
    } else {
        static_assert(VEC == 1, "vector widths are 1, 2, 4 and 8");
        pg_store(p, dtype, i, v[0]);
    }
}

// p[i..i+VEC) += d in p's type (= d under PG_OVERWRITE): a separate read-modify-write, so two gradient outputs
// that are one tensor (dX and dX0 of the first block) each see the other's update when the same thread makes both.
template <int VEC>
__device__ __forceinline__ void pg_accumulate_vec(void* p, int dtype, long long i, const float* d) {
    if (dtype & PG_OVERWRITE) {
        pg_store_vec<VEC>(p, dtype, i, d);
        return;
    }
    float v[VEC];
    pg_load_vec<VEC>(p, dtype, i, v);
#pragma unroll
    for (int k = 0; k < VEC; k++) {
        v[k] += d[k];
    }
    pg_store_vec<VEC>(p, dtype, i, v);
}

// Whether p (null counts: an absent operand) may be accessed VEC values at a time.
template <int VEC>
__device__ __forceinline__ bool pg_aligned(const void* p, int dtype) {
    unsigned bytes = VEC * (pg_is_bf16(dtype) ? 2u : 4u);
    return reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

// Runs body(pg_vec_width<4>{}, i) for every 4-aligned chunk [i, i + 4) of [0, n) and body(pg_vec_width<1>{}, i)
// for the 0-3 values past the last chunk, over a grid-stride loop; everything with width 1 when !vectorized.
template <typename Body>
__device__ __forceinline__ void pg_for_each_chunk(long long n, bool vectorized, Body body) {
    long long chunks = vectorized ? n / 4 : 0;
    PG_FOR_EACH(c, chunks) {
        body(pg_vec_width<4>{}, c * 4);
    }
    long long rest = n - chunks * 4;
    PG_FOR_EACH(t, rest) {
        body(pg_vec_width<1>{}, chunks * 4 + t);
    }
}

// Calls body(pg_vec_width<VEC>{}) when vectorized, body(pg_vec_width<1>{}) otherwise: a uniform branch per launch.
template <int VEC, typename Body>
__device__ __forceinline__ void pg_dispatch_vec(bool vectorized, Body body) {
    if (vectorized) {
        body(pg_vec_width<VEC>{});
    } else {
        body(pg_vec_width<1>{});
    }
}

// The sum of squares of the n values of a row from p + base, spread over a warp (lane l takes VEC values every
// 32 * VEC), summed across the warp; every lane gets it. The first sweep of rms_norm and of MuonEq-R's row norm.
template <int VEC>
__device__ __forceinline__ float pg_warp_row_sum_squares(const void* p, int dtype, long long base, int n, int lane) {
    float squares = 0.0f;
    for (int j = lane * VEC; j < n; j += 32 * VEC) {
        float v[VEC];
        pg_load_vec<VEC>(p, dtype, base + j, v);
#pragma unroll
        for (int k = 0; k < VEC; k++) {
            squares += v[k] * v[k];
        }
    }
    return pg_warp_sum(squares);
}

// A token id or target outside [0, bound) would read or write out of bounds: stop the kernel (the launch fails
// with an illegal-instruction error) after printing the offending row, rather than corrupt memory.
__device__ __forceinline__ void pg_require_index(int value, int bound, long long row, const char* what) {
    if (value < 0 || value >= bound) {
        printf("pgolf: %s at row %lld is %d, outside [0, %d)\n", what, row, value, bound);
        __trap();
    }
}

// Warps per block of the kernels that give each warp one row (or one head of a row): 256 threads.
#define PG_ROW_WARPS 8
