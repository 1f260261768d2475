// Causal grouped-query attention for head_dim 64 (io.pgolf.gpu.cuda.CudaFlashAttention). One thread per query row
// (forward, dQ) or key row (dK/dV) with the other side streamed through shared memory in tiles of 64 rows, online
// softmax in float32, log-sum-exp saved for the backward. Every tensor is a (pointer, dtype) pair, see pgolf.cuh.
#include "pgolf.cuh"

#define PG_ATT_DIM 64
#define PG_ATT_TILE 64

// Rows [first, first + PG_ATT_TILE) of one head (columns [col, col + 64) of a [rows, width] matrix) into tile,
// rows at or past seqLen as zeros. The whole block takes part.
__device__ __forceinline__ void pg_att_load_tile(float (*tile)[PG_ATT_DIM], const void* src, int type, long long rowBase,
                                                 int first, int seqLen, int width, int col) {
    for (int e = threadIdx.x; e < PG_ATT_TILE * PG_ATT_DIM; e += blockDim.x) {
        int r = e / PG_ATT_DIM;
        int d = e % PG_ATT_DIM;
        int t = first + r;
        tile[r][d] = t < seqLen ? pg_load(src, type, (rowBase + t) * width + col + d) : 0.0f;
    }
}

// grid (ceil(seqLen / 64), heads, batch), block 64: thread x owns query row blockIdx.x * 64 + x.
extern "C" __global__ void pg_attention_forward(const void* q, int q_type, const void* k, int k_type, const void* v,
                                                int v_type, void* out, int out_type, float* lse, int seqLen,
                                                int heads, int kvHeads, float scale) {
    __shared__ float keys[PG_ATT_TILE][PG_ATT_DIM];
    __shared__ float values[PG_ATT_TILE][PG_ATT_DIM];
    int h = blockIdx.y;
    int b = blockIdx.z;
    int t = blockIdx.x * PG_ATT_TILE + threadIdx.x;
    int qWidth = heads * PG_ATT_DIM;
    int kvWidth = kvHeads * PG_ATT_DIM;
    int kvCol = h / (heads / kvHeads) * PG_ATT_DIM;
    long long rowBase = (long long)b * seqLen;
    bool active = t < seqLen;
    float query[PG_ATT_DIM];
    float acc[PG_ATT_DIM];
#pragma unroll
    for (int d = 0; d < PG_ATT_DIM; d++) {
        query[d] = active ? pg_load(q, q_type, (rowBase + t) * qWidth + h * PG_ATT_DIM + d) * scale : 0.0f;
        acc[d] = 0.0f;
    }
    float rowMax = -INFINITY;
    float sum = 0.0f;
    for (int tile = 0; tile <= blockIdx.x; tile++) {
        int first = tile * PG_ATT_TILE;
        __syncthreads();
        pg_att_load_tile(keys, k, k_type, rowBase, first, seqLen, kvWidth, kvCol);
        pg_att_load_tile(values, v, v_type, rowBase, first, seqLen, kvWidth, kvCol);
        __syncthreads();
        int count = active ? min(PG_ATT_TILE, t - first + 1) : 0;
        for (int j = 0; j < count; j++) {
            float s = 0.0f;
#pragma unroll
            for (int d = 0; d < PG_ATT_DIM; d++) {
                s += query[d] * keys[j][d];
            }
            if (s > rowMax) {
                float correction = __expf(rowMax - s);
                sum *= correction;
#pragma unroll
                for (int d = 0; d < PG_ATT_DIM; d++) {
                    acc[d] *= correction;
                }
                rowMax = s;
            }
            float p = __expf(s - rowMax);
            sum += p;
#pragma unroll
            for (int d = 0; d < PG_ATT_DIM; d++) {
                acc[d] += p * values[j][d];
            }
        }
    }
    if (active) {
        float inv = 1.0f / sum;
#pragma unroll
        for (int d = 0; d < PG_ATT_DIM; d++) {
            pg_store(out, out_type, (rowBase + t) * qWidth + h * PG_ATT_DIM + d, acc[d] * inv);
        }
        lse[((long long)b * heads + h) * seqLen + t] = rowMax + logf(sum);
    }
}

// rowDots[b, h, t] = dOut . out over the head's 64 dims: one warp per (row, head), n = rows * heads warps.
extern "C" __global__ void pg_attention_backward_dot(const void* out, int out_type, const void* dOut, int dOut_type,
                                                     float* rowDots, long long n, int seqLen, int heads) {
    int lane = threadIdx.x & 31;
    long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
    for (long long w = warp; w < n; w += warps) {
        long long row = w / heads;
        int h = (int)(w % heads);
        long long base = row * heads * PG_ATT_DIM + h * PG_ATT_DIM;
        float s = pg_load(out, out_type, base + lane) * pg_load(dOut, dOut_type, base + lane)
                + pg_load(out, out_type, base + lane + 32) * pg_load(dOut, dOut_type, base + lane + 32);
        s = pg_warp_sum(s);
        if (lane == 0) {
            long long b = row / seqLen;
            int t = (int)(row % seqLen);
            rowDots[(b * heads + h) * seqLen + t] = s;
        }
    }
}

// grid (ceil(seqLen / 64), kvHeads, batch), block 64: thread x owns key row blockIdx.x * 64 + x of kv head
// blockIdx.y and sums its gradients over every query head of the group and every later query, then adds them.
extern "C" __global__ void pg_attention_backward_dkdv(const void* q, int q_type, const void* k, int k_type,
                                                      const void* v, int v_type, const float* lse,
                                                      const float* rowDots, const void* dOut, int dOut_type,
                                                      void* dK, int dK_type, void* dV, int dV_type, int seqLen,
                                                      int heads, int kvHeads, float scale) {
    __shared__ float queries[PG_ATT_TILE][PG_ATT_DIM];
    __shared__ float grads[PG_ATT_TILE][PG_ATT_DIM];
    __shared__ float tileLse[PG_ATT_TILE];
    __shared__ float tileDots[PG_ATT_TILE];
    int kv = blockIdx.y;
    int b = blockIdx.z;
    int j = blockIdx.x * PG_ATT_TILE + threadIdx.x;
    int qWidth = heads * PG_ATT_DIM;
    int kvWidth = kvHeads * PG_ATT_DIM;
    int group = heads / kvHeads;
    long long rowBase = (long long)b * seqLen;
    bool active = j < seqLen;
    float key[PG_ATT_DIM];
    float value[PG_ATT_DIM];
    float keyGrad[PG_ATT_DIM];
    float valueGrad[PG_ATT_DIM];
#pragma unroll
    for (int d = 0; d < PG_ATT_DIM; d++) {
        long long i = (rowBase + j) * kvWidth + kv * PG_ATT_DIM + d;
        key[d] = active ? pg_load(k, k_type, i) : 0.0f;
        value[d] = active ? pg_load(v, v_type, i) : 0.0f;
        keyGrad[d] = 0.0f;
        valueGrad[d] = 0.0f;
    }
    int tiles = (seqLen + PG_ATT_TILE - 1) / PG_ATT_TILE;
    for (int h = kv * group; h < (kv + 1) * group; h++) {
        long long statBase = ((long long)b * heads + h) * seqLen;
        for (int tile = blockIdx.x; tile < tiles; tile++) {
            int first = tile * PG_ATT_TILE;
            __syncthreads();
            pg_att_load_tile(queries, q, q_type, rowBase, first, seqLen, qWidth, h * PG_ATT_DIM);
            pg_att_load_tile(grads, dOut, dOut_type, rowBase, first, seqLen, qWidth, h * PG_ATT_DIM);
            int t = first + threadIdx.x;
            tileLse[threadIdx.x] = t < seqLen ? lse[statBase + t] : 0.0f;
            tileDots[threadIdx.x] = t < seqLen ? rowDots[statBase + t] : 0.0f;
            __syncthreads();
            if (!active) {
                continue;
            }
            int from = max(0, j - first);
            int to = min(PG_ATT_TILE, seqLen - first);
            for (int i = from; i < to; i++) {
                float s = 0.0f;
                float dp = 0.0f;
#pragma unroll
                for (int d = 0; d < PG_ATT_DIM; d++) {
                    s += queries[i][d] * key[d];
                    dp += grads[i][d] * value[d];
                }
                float p = __expf(s * scale - tileLse[i]);
                float ds = p * (dp - tileDots[i]) * scale;
#pragma unroll
                for (int d = 0; d < PG_ATT_DIM; d++) {
                    valueGrad[d] += p * grads[i][d];
                    keyGrad[d] += ds * queries[i][d];
                }
            }
        }
    }
    if (active) {
#pragma unroll
        for (int d = 0; d < PG_ATT_DIM; d++) {
            long long i = (rowBase + j) * kvWidth + kv * PG_ATT_DIM + d;
            pg_accumulate(dK, dK_type, i, keyGrad[d]);
            pg_accumulate(dV, dV_type, i, valueGrad[d]);
        }
    }
}

// grid (ceil(seqLen / 64), heads, batch), block 64: thread x owns query row blockIdx.x * 64 + x and adds its
// gradient, recomputing the probabilities from the log-sum-exp.
extern "C" __global__ void pg_attention_backward_dq(const void* q, int q_type, const void* k, int k_type,
                                                    const void* v, int v_type, const float* lse,
                                                    const float* rowDots, const void* dOut, int dOut_type, void* dQ,
                                                    int dQ_type, int seqLen, int heads, int kvHeads, float scale) {
    __shared__ float keys[PG_ATT_TILE][PG_ATT_DIM];
    __shared__ float values[PG_ATT_TILE][PG_ATT_DIM];
    int h = blockIdx.y;
    int b = blockIdx.z;
    int t = blockIdx.x * PG_ATT_TILE + threadIdx.x;
    int qWidth = heads * PG_ATT_DIM;
    int kvWidth = kvHeads * PG_ATT_DIM;
    int kvCol = h / (heads / kvHeads) * PG_ATT_DIM;
    long long rowBase = (long long)b * seqLen;
    bool active = t < seqLen;
    float query[PG_ATT_DIM];
    float grad[PG_ATT_DIM];
    float queryGrad[PG_ATT_DIM];
#pragma unroll
    for (int d = 0; d < PG_ATT_DIM; d++) {
        long long i = (rowBase + t) * qWidth + h * PG_ATT_DIM + d;
        query[d] = active ? pg_load(q, q_type, i) : 0.0f;
        grad[d] = active ? pg_load(dOut, dOut_type, i) : 0.0f;
        queryGrad[d] = 0.0f;
    }
    long long stat = ((long long)b * heads + h) * seqLen + t;
    float rowLse = active ? lse[stat] : 0.0f;
    float rowDot = active ? rowDots[stat] : 0.0f;
    for (int tile = 0; tile <= blockIdx.x; tile++) {
        int first = tile * PG_ATT_TILE;
        __syncthreads();
        pg_att_load_tile(keys, k, k_type, rowBase, first, seqLen, kvWidth, kvCol);
        pg_att_load_tile(values, v, v_type, rowBase, first, seqLen, kvWidth, kvCol);
        __syncthreads();
        int count = active ? min(PG_ATT_TILE, t - first + 1) : 0;
        for (int j = 0; j < count; j++) {
            float s = 0.0f;
            float dp = 0.0f;
#pragma unroll
            for (int d = 0; d < PG_ATT_DIM; d++) {
                s += query[d] * keys[j][d];
                dp += grad[d] * values[j][d];
            }
            float ds = __expf(s * scale - rowLse) * (dp - rowDot) * scale;
#pragma unroll
            for (int d = 0; d < PG_ATT_DIM; d++) {
                queryGrad[d] += ds * keys[j][d];
            }
        }
    }
    if (active) {
#pragma unroll
        for (int d = 0; d < PG_ATT_DIM; d++) {
            pg_accumulate(dQ, dQ_type, (rowBase + t) * qWidth + h * PG_ATT_DIM + d, queryGrad[d]);
        }
    }
}
