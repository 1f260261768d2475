package io.pgolf.gpu.cpu;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.Tensor;

import java.util.Arrays;

import static io.pgolf.gpu.cpu.ShapeChecks.requireMatrix;
import static io.pgolf.gpu.cpu.ShapeChecks.requireSize;

/**
 * Causal grouped-query attention in float32: the forward takes one query row at a time with a plain softmax over
 * its keys and saves the row's log-sum-exp; the backward recomputes the probabilities from it as flash attention
 * does (dS = P (dP - rowsum(dO O))). Nothing of size seqLen x seqLen is ever held; a task's scratch is a few
 * [headDim, seqLen] slices.
 *
 * <p>Dot products over headDim are computed against keys and values transposed to [headDim, seqLen], so that the
 * inner loops run over keys and vectorize (the JIT does not vectorize a float sum in one accumulator).
 */
final class CpuAttention {
    /** Query rows per forward task: enough to amortize the task's transpose of the keys. */
    private static final int QUERY_BLOCK = 32;

    private final CpuThreads threads;

    CpuAttention(CpuThreads threads) {
        this.threads = threads;
    }

    private static float[] floats(Tensor t) {
        return CpuTensor.of(t).floats();
    }

    private static void requireOperands(Tensor q, Tensor k, Tensor v, AttentionShape shape) {
        requireMatrix(q, shape.rows(), shape.heads() * shape.headDim(), "attention queries");
        requireMatrix(k, shape.rows(), shape.kvHeads() * shape.headDim(), "attention keys");
        requireMatrix(v, shape.rows(), shape.kvHeads() * shape.headDim(), "attention values");
    }

    void forward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp) {
        requireOperands(q, k, v, shape);
        requireMatrix(out, shape.rows(), shape.heads() * shape.headDim(), "attention output");
        requireSize(logSumExp, (long) shape.batch() * shape.heads() * shape.seqLen(), "attention log-sum-exp");
        float[] qs = floats(q);
        float[] ks = floats(k);
        float[] vs = floats(v);
        float[] o = floats(out);
        float[] lse = floats(logSumExp);
        int seqLen = shape.seqLen();
        int heads = shape.heads();
        int headDim = shape.headDim();
        int qWidth = heads * headDim;
        int kvWidth = shape.kvHeads() * headDim;
        float scale = shape.softmaxScale();
        int blocks = Math.ceilDiv(seqLen, QUERY_BLOCK);
        // A unit is one block of query rows of one head of one sequence; consecutive units share keys.
        threads.forRange(shape.batch() * heads * blocks, 1, (from, to) -> {
            float[] keysT = new float[headDim * seqLen];
            float[] weights = new float[seqLen];
            float[] acc = new float[headDim];
            for (int unit = from; unit < to; unit++) {
                int b = unit / (heads * blocks);
                int h = unit / blocks % heads;
                int firstQuery = unit % blocks * QUERY_BLOCK;
                int endQuery = Math.min(seqLen, firstQuery + QUERY_BLOCK);
                int kvOffset = h / shape.groupSize() * headDim;
                int firstRow = b * seqLen;
                transposeHead(ks, firstRow, endQuery, kvWidth, kvOffset, headDim, seqLen, keysT);
                for (int t = firstQuery; t < endQuery; t++) {
                    int qOff = (firstRow + t) * qWidth + h * headDim;
                    int keys = t + 1;
                    dotsWithTransposed(qs, qOff, keysT, headDim, seqLen, keys, scale, weights);
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < keys; j++) {
                        max = Math.max(max, weights[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < keys; j++) {
                        float e = (float) Math.exp(weights[j] - max);
                        weights[j] = e;
                        sum += e;
                    }
                    Arrays.fill(acc, 0f);
                    for (int j = 0; j < keys; j++) {
                        float p = weights[j];
                        int vOff = (firstRow + j) * kvWidth + kvOffset;
                        for (int d = 0; d < headDim; d++) {
                            acc[d] += p * vs[vOff + d];
                        }
                    }
                    float inverseSum = (float) (1.0 / sum);
                    for (int d = 0; d < headDim; d++) {
                        o[qOff + d] = acc[d] * inverseSum;
                    }
                    lse[(b * heads + h) * seqLen + t] = (float) (max + Math.log(sum));
                }
            }
        });
    }

    void backward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp, Tensor dOut,
                  Tensor dQ, Tensor dK, Tensor dV) {
        requireOperands(q, k, v, shape);
        int qWidth = shape.heads() * shape.headDim();
        int kvWidth = shape.kvHeads() * shape.headDim();
        requireMatrix(out, shape.rows(), qWidth, "attention output");
        requireSize(logSumExp, (long) shape.batch() * shape.heads() * shape.seqLen(), "attention log-sum-exp");
        requireMatrix(dOut, shape.rows(), qWidth, "attention output gradient");
        requireMatrix(dQ, shape.rows(), qWidth, "attention query gradient");
        requireMatrix(dK, shape.rows(), kvWidth, "attention key gradient");
        requireMatrix(dV, shape.rows(), kvWidth, "attention value gradient");
        float[] qs = floats(q);
        float[] ks = floats(k);
        float[] vs = floats(v);
        float[] o = floats(out);
        float[] lse = floats(logSumExp);
        float[] g = floats(dOut);
        float[] dq = floats(dQ);
        float[] dk = floats(dK);
        float[] dv = floats(dV);
        int seqLen = shape.seqLen();
        int heads = shape.heads();
        int kvHeads = shape.kvHeads();
        int headDim = shape.headDim();
        int group = shape.groupSize();
        float scale = shape.softmaxScale();
        // A unit is one kv head of one sequence with all the query heads that read it: the only writer of those
        // keys' and values' gradients, so they need no synchronization.
        threads.forRange(shape.batch() * kvHeads, 1, (from, to) -> {
            float[] keysT = new float[headDim * seqLen];
            float[] valuesT = new float[headDim * seqLen];
            float[] keyGrads = new float[seqLen * headDim];
            float[] valueGrads = new float[seqLen * headDim];
            float[] probabilities = new float[seqLen];
            float[] scoreGrads = new float[seqLen];
            float[] queryGrad = new float[headDim];
            for (int unit = from; unit < to; unit++) {
                int b = unit / kvHeads;
                int kvOffset = unit % kvHeads * headDim;
                int firstRow = b * seqLen;
                transposeHead(ks, firstRow, seqLen, kvWidth, kvOffset, headDim, seqLen, keysT);
                transposeHead(vs, firstRow, seqLen, kvWidth, kvOffset, headDim, seqLen, valuesT);
                Arrays.fill(keyGrads, 0f);
                Arrays.fill(valueGrads, 0f);
                for (int h = unit % kvHeads * group; h < (unit % kvHeads + 1) * group; h++) {
                    for (int t = 0; t < seqLen; t++) {
                        int qOff = (firstRow + t) * qWidth + h * headDim;
                        int keys = t + 1;
                        float rowLse = lse[(b * heads + h) * seqLen + t];
                        dotsWithTransposed(qs, qOff, keysT, headDim, seqLen, keys, scale, probabilities);
                        for (int j = 0; j < keys; j++) {
                            probabilities[j] = (float) Math.exp(probabilities[j] - rowLse);
                        }
                        dotsWithTransposed(g, qOff, valuesT, headDim, seqLen, keys, 1f, scoreGrads);
                        double outDotGrad = 0;
                        for (int d = 0; d < headDim; d++) {
                            outDotGrad += (double) o[qOff + d] * g[qOff + d];
                        }
                        float rowD = (float) outDotGrad;
                        Arrays.fill(queryGrad, 0f);
                        for (int j = 0; j < keys; j++) {
                            float p = probabilities[j];
                            // The gradient of the scaled score, times the scale it was scaled by.
                            float ds = p * (scoreGrads[j] - rowD) * scale;
                            int accOff = j * headDim;
                            int kOff = (firstRow + j) * kvWidth + kvOffset;
                            for (int d = 0; d < headDim; d++) {
                                valueGrads[accOff + d] += p * g[qOff + d];
                                keyGrads[accOff + d] += ds * qs[qOff + d];
                                queryGrad[d] += ds * ks[kOff + d];
                            }
                        }
                        for (int d = 0; d < headDim; d++) {
                            dq[qOff + d] += queryGrad[d];
                        }
                    }
                }
                for (int j = 0; j < seqLen; j++) {
                    int kvOff = (firstRow + j) * kvWidth + kvOffset;
                    for (int d = 0; d < headDim; d++) {
                        dk[kvOff + d] += keyGrads[j * headDim + d];
                        dv[kvOff + d] += valueGrads[j * headDim + d];
                    }
                }
            }
        });
    }

    /**
     * dst[d * stride + j] = src[(firstRow + j) * rowWidth + offset + d] for j < count and d < headDim: one head's
     * slice of rows, transposed.
     */
    private static void transposeHead(float[] src, int firstRow, int count, int rowWidth, int offset, int headDim,
                                      int stride, float[] dst) {
        for (int j = 0; j < count; j++) {
            int srcOff = (firstRow + j) * rowWidth + offset;
            for (int d = 0; d < headDim; d++) {
                dst[d * stride + j] = src[srcOff + d];
            }
        }
    }

    /**
     * dst[j] = scale * (vector . column j) for j < count, where vector is headDim values at vecOff and the
     * columns are those of a transposed slice [headDim, stride].
     */
    private static void dotsWithTransposed(float[] vector, int vecOff, float[] transposed, int headDim, int stride,
                                           int count, float scale, float[] dst) {
        Arrays.fill(dst, 0, count, 0f);
        for (int d = 0; d < headDim; d++) {
            float x = vector[vecOff + d];
            int row = d * stride;
            for (int j = 0; j < count; j++) {
                dst[j] += x * transposed[row + j];
            }
        }
        for (int j = 0; j < count; j++) {
            dst[j] *= scale;
        }
    }
}
