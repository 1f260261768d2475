package io.pgolf.model.quant;

import io.pgolf.config.PgolfConfig;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.GptLayout;
import io.pgolf.model.ParameterSet;
import io.pgolf.model.ParameterSpec;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.SequencedMap;

/**
 * Times GPTQ on the CPU: one 512 x 2048 matrix (an MLP projection of the record), then the whole record-size model
 * (the default configuration, vocab 8192) with Gaussian weights and synthetic positive definite Hessians
 * (low rank plus diagonal; GPTQ's work does not depend on the values). Argument: threads for the whole model
 * (default 2).
 */
public final class GptqBenchmark {
    private static final int RECORD_VOCAB = 8192;
    private static final int HESSIAN_RANK = 64;

    private GptqBenchmark() {
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        Random random = new Random(1);
        PgolfConfig config = PgolfConfig.load(Optional.empty(), Map.of(), List.of());
        Map<Integer, float[]> hessianValues = new HashMap<>();

        float[] projection = gaussian(random, 512 * 2048, 0.02f);
        Hessian wide = new Hessian("mlp.proj", 2048, hessianValues.computeIfAbsent(2048, d -> spd(random, d)));
        for (int run = 0; run < 3; run++) {
            long start = System.nanoTime();
            Gptq.quantize("mlp.proj", projection, 512, 2048, wide, config.quant().matrixClipSigmas(),
                    config.quant().matrixBits());
            System.out.printf("GPTQ of one 512 x 2048 matrix (one thread), run %d: %.2f s%n", run,
                    (System.nanoTime() - start) / 1e9);
        }

        GptLayout layout = new GptLayout(config.model(), RECORD_VOCAB, config.optimizer().tiedEmbedInitStd());
        try (CpuBackend backend = new CpuBackend(threads); ParameterSet parameters = new ParameterSet(backend)) {
            for (ParameterSpec spec : layout.parameters()) {
                parameters.add(spec.name(), gaussian(random, Math.toIntExact(spec.elementCount()), 0.02f),
                        spec.shape());
            }
            SequencedMap<String, Hessian> hessians = new LinkedHashMap<>();
            for (String name : ModelQuantizer.gptqWeights(parameters)) {
                int dim = parameters.get(name).shape()[1];
                hessians.put(name, new Hessian(name, dim, hessianValues.computeIfAbsent(dim, d -> spd(random, d))));
            }
            System.out.printf("record-size model: %d parameters, %d GPTQ matrices, %d threads%n",
                    parameters.elementCount(), hessians.size(), threads);
            ModelQuantizer quantizer = new ModelQuantizer(config.quant(), threads);
            long start = System.nanoTime();
            QuantizedModel model = quantizer.quantize(parameters, new Hessians(hessians, 1));
            System.out.printf("GPTQ of the whole model: %.1f s (%d tensors)%n", (System.nanoTime() - start) / 1e9,
                    model.tensors().size());
        }
    }

    private static float[] gaussian(Random random, int n, float std) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextGaussian() * std;
        }
        return out;
    }

    /** A A^T / rank + 0.1 I for a Gaussian A [d, rank]. */
    private static float[] spd(Random random, int d) {
        float[] a = gaussian(random, d * HESSIAN_RANK, 1f);
        float[] h = new float[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                float sum = 0f;
                for (int k = 0; k < HESSIAN_RANK; k++) {
                    sum += a[i * HESSIAN_RANK + k] * a[j * HESSIAN_RANK + k];
                }
                h[i * d + j] = sum / HESSIAN_RANK + (i == j ? 0.1f : 0f);
            }
        }
        return h;
    }
}
