// Hopper building blocks shared by the attention and MLP kernels: wgmma shared-memory descriptors, the fence that
// keeps accumulator code on its side of a wgmma wait, and shared-memory barriers (mbarrier) between producers and
// consumers. The descriptor and the fence serve wgmma (sm_90a); the mbarriers work on every GPU from sm_80 on.
#pragma once
#include <stdint.h>

// Descriptor of a K-major operand in shared memory from `address` for wgmma: the 128-byte swizzle (16-byte chunk c of
// 128-byte row r stored at chunk c ^ (r % 8), on a 1024-byte aligned buffer, as pgolf's cp.async copies and the
// 128-byte-swizzled tensor maps both write it), 1024 bytes from one group of 8 rows to the next; the leading offset
// is unused by 128-byte rows.
__device__ __forceinline__ uint64_t pg_wgmma_descriptor(uint32_t address) {
    return (uint64_t)((address & 0x3FFFF) >> 4) | (uint64_t)1 << 16 | (uint64_t)(1024 >> 4) << 32 |
           (uint64_t)1 << 62;
}

// Ties the accumulator registers to this point of the program: code that reads or writes them is not moved across
// a wgmma wait (or, before the MMAs, ahead of the writes they must see).
template <int N>
__device__ __forceinline__ void pg_wgmma_pin(float (&d)[N][4]) {
#pragma unroll
    for (int nt = 0; nt < N; nt++) {
#pragma unroll
        for (int i = 0; i < 4; i++) {
            asm volatile("" : "+f"(d[nt][i])::"memory");
        }
    }
}

// An mbarrier at shared address `barrier` that completes a phase after `arrivals` arrivals (plus, where a producer
// announced them, the bytes of its bulk copies).
__device__ __forceinline__ void pg_mbarrier_init(uint32_t barrier, int arrivals) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" :: "r"(barrier), "r"(arrivals) : "memory");
}

__device__ __forceinline__ void pg_mbarrier_arrive(uint32_t barrier) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" :: "r"(barrier) : "memory");
}

// Waits until the barrier's phase of the given parity (0 for its first, 1 for its second, ...) has completed.
__device__ __forceinline__ void pg_mbarrier_wait(uint32_t barrier, uint32_t parity) {
    asm volatile("{\n.reg .pred done;\nwaiting:\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
                 "@!done bra waiting;\n}\n" :: "r"(barrier), "r"(parity) : "memory");
}
