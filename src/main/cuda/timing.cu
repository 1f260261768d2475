// Instruments for io.pgolf.gpu.cuda.QueueAheadTimer: a kernel that keeps the stream busy for a while, so that the
// host can queue the work behind it before the GPU reaches any of it; that work then runs without waiting for the
// host, and its time between two events is the GPU's own.
#include "pgolf.cuh"

__device__ __forceinline__ unsigned long long pg_global_nanoseconds() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

// One thread waits until `nanoseconds` have passed on the GPU's global timer.
extern "C" __global__ void pg_hold(long long nanoseconds) {
    unsigned long long start = pg_global_nanoseconds();
    while (pg_global_nanoseconds() - start < (unsigned long long)nanoseconds) {
        __nanosleep(1000);
    }
}
