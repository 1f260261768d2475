// TensorOps' elementwise kernels (io.pgolf.gpu.cuda.CudaTensorOps). Grid-stride loops; every tensor is a
// (pointer, dtype) pair, see pgolf.cuh.
#include "pgolf.cuh"

// dst[dst_offset + i] = src[i] for i < n, converting: a copy, or a matrix into a row range of another.
extern "C" __global__ void pg_convert(const void* src, int src_type, void* dst, int dst_type, long long dst_offset,
                                     long long n) {
    PG_FOR_EACH(i, n) {
        pg_store(dst, dst_type, dst_offset + i, pg_load(src, src_type, i));
    }
}

// dst[i] += src[src_offset + i] for i < n (every element of dst, through pg_accumulate): a row range of a matrix.
extern "C" __global__ void pg_accumulate_from(const void* src, int src_type, long long src_offset, void* dst,
                                             int dst_type, long long n) {
    PG_FOR_EACH(i, n) {
        pg_accumulate(dst, dst_type, i, pg_load(src, src_type, src_offset + i));
    }
}

// y = alpha * x + beta * y
extern "C" __global__ void pg_axpby(float alpha, const void* x, int x_type, float beta, void* y, int y_type,
                                    long long n) {
    PG_FOR_EACH(i, n) {
        pg_store(y, y_type, i, alpha * pg_load(x, x_type, i) + beta * pg_load(y, y_type, i));
    }
}

extern "C" __global__ void pg_add(const void* a, int a_type, const void* b, int b_type, void* out, int out_type,
                                  long long n) {
    PG_FOR_EACH(i, n) {
        pg_store(out, out_type, i, pg_load(a, a_type, i) + pg_load(b, b_type, i));
    }
}

extern "C" __global__ void pg_scale(void* t, int type, long long n, float alpha) {
    PG_FOR_EACH(i, n) {
        pg_store(t, type, i, alpha * pg_load(t, type, i));
    }
}

extern "C" __global__ void pg_round_bf16(float* t, long long n) {
    PG_FOR_EACH(i, n) {
        t[i] = pg_round_bf16(t[i]);
    }
}

// dst [cols, rows] = src [rows, cols]^T through a 32x32 shared tile (padded against bank conflicts); block 32x8.
extern "C" __global__ void pg_transpose(const void* src, int src_type, void* dst, int dst_type, int rows, int cols) {
    __shared__ float tile[32][33];
    int c0 = blockIdx.x * 32;
    int r0 = blockIdx.y * 32;
    for (int dy = threadIdx.y; dy < 32; dy += blockDim.y) {
        int r = r0 + dy;
        int c = c0 + threadIdx.x;
        if (r < rows && c < cols) {
            tile[dy][threadIdx.x] = pg_load(src, src_type, (long long)r * cols + c);
        }
    }
    __syncthreads();
    for (int dy = threadIdx.y; dy < 32; dy += blockDim.y) {
        int c = c0 + dy;
        int r = r0 + threadIdx.x;
        if (r < rows && c < cols) {
            pg_store(dst, dst_type, (long long)c * rows + r, tile[threadIdx.x][dy]);
        }
    }
}

// partials[blockIdx.x] = sum of squares of this block's grid-stride share, in double; a fixed grid and a second
// pass in fixed order (pg_sum_partials) make the result deterministic.
extern "C" __global__ void pg_sum_squares_partial(const void* t, int type, long long n, double* partials) {
    __shared__ double scratch[32];
    double acc = 0.0;
    PG_FOR_EACH(i, n) {
        double v = pg_load(t, type, i);
        acc += v * v;
    }
    acc = pg_warp_sum_double(acc);
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    if (lane == 0) {
        scratch[warp] = acc;
    }
    __syncthreads();
    if (warp == 0) {
        double v = lane < (blockDim.x >> 5) ? scratch[lane] : 0.0;
        v = pg_warp_sum_double(v);
        if (lane == 0) {
            partials[blockIdx.x] = v;
        }
    }
}

// out[0] = sum of partials[0..count), one thread block of 32 threads, in a fixed order.
extern "C" __global__ void pg_sum_partials(const double* partials, int count, double* out) {
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += 32) {
        acc += partials[i];
    }
    acc = pg_warp_sum_double(acc);
    if (threadIdx.x == 0) {
        out[0] = acc;
    }
}
