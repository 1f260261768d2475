package io.pgolf.gpu.cuda;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;

import java.util.Arrays;
import java.util.Random;

/**
 * Times CudaFlashAttention's forward and backward on GPU 0 with random bf16 inputs (float32 gradients, as the
 * model's activation gradients are today). Arguments: batch seqLen heads kvHeads (defaults 48 2048 8 4, the
 * record's micro-batch). Throughput counts the causal half of the score matrix: forward 2 products of
 * 2 * rows * keys * 64 flops, backward 2.5 times that (FlashAttention's convention; the deterministic backward
 * here does 3.5 times the forward's products).
 *
 * <p>Run on a GPU machine: {@code mvn -q -o package -DskipTests && java --enable-native-access=ALL-UNNAMED
 * -cp "target/classes:target/test-classes:target/lib/*" io.pgolf.gpu.cuda.FlashAttentionBenchmark}
 */
public final class FlashAttentionBenchmark {
    private static final int WARMUP = 3;
    private static final int RUNS = 10;

    private FlashAttentionBenchmark() {
    }

    public static void main(String[] args) {
        int[] p = {48, 2048, 8, 4};
        for (int i = 0; i < args.length; i++) {
            p[i] = Integer.parseInt(args[i]);
        }
        AttentionShape shape = new AttentionShape(p[0], p[1], p[2], p[3], 64, 0.125f);
        try (CudaRuntime runtime = CudaRuntime.open(0)) {
            CudaTensorOps t = runtime.tensors();
            CudaFlashAttention attention = new CudaFlashAttention(runtime);
            Random random = new Random(1);
            int rows = shape.rows();
            int qWidth = shape.heads() * shape.headDim();
            int kvWidth = shape.kvHeads() * shape.headDim();
            Tensor q = t.upload(DType.BF16, gaussian(random, rows * qWidth), rows, qWidth);
            Tensor k = t.upload(DType.BF16, gaussian(random, rows * kvWidth), rows, kvWidth);
            Tensor v = t.upload(DType.BF16, gaussian(random, rows * kvWidth), rows, kvWidth);
            Tensor dOut = t.upload(DType.F32, gaussian(random, rows * qWidth), rows, qWidth);
            Tensor out = t.zeros(DType.BF16, rows, qWidth);
            Tensor logSumExp = t.zeros(DType.F32, shape.batch(), shape.heads(), shape.seqLen());
            Tensor dQ = t.zeros(DType.F32, rows, qWidth);
            Tensor dK = t.zeros(DType.F32, rows, kvWidth);
            Tensor dV = t.zeros(DType.F32, rows, kvWidth);
            double[] forward = new double[RUNS];
            double[] backward = new double[RUNS];
            for (int run = -WARMUP; run < RUNS; run++) {
                runtime.device().synchronize();
                long start = System.nanoTime();
                attention.forward(q, k, v, shape, out, logSumExp);
                runtime.device().synchronize();
                long middle = System.nanoTime();
                attention.backward(q, k, v, shape, out, logSumExp, dOut, dQ, dK, dV);
                runtime.device().synchronize();
                long end = System.nanoTime();
                if (run >= 0) {
                    forward[run] = (middle - start) / 1e6;
                    backward[run] = (end - middle) / 1e6;
                }
            }
            double causalPairs = (double) shape.batch() * shape.heads() * shape.seqLen() * (shape.seqLen() + 1) / 2;
            double forwardFlops = 4 * causalPairs * shape.headDim();
            double fastForward = Arrays.stream(forward).min().orElseThrow();
            double fastBackward = Arrays.stream(backward).min().orElseThrow();
            System.out.printf("%s on %s: forward %.3f ms (%.0f TFLOP/s), backward %.3f ms (%.0f TFLOP/s at 2.5x),"
                            + " fastest of %d%n", shape, runtime.device().name(), fastForward,
                    forwardFlops / fastForward / 1e9, fastBackward, 2.5 * forwardFlops / fastBackward / 1e9, RUNS);
        }
    }

    private static float[] gaussian(Random random, int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
