package io.pgolf.model.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgolf.config.PgolfConfig;
import io.pgolf.data.shard.Shards;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.optim.ModelOptimizer;
import io.pgolf.model.train.TrainingEngine;
import io.pgolf.protocol.Tokens;
import io.pgolf.protocol.TrainBatch;
import io.pgolf.testing.SharedFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole model through calibration, GPTQ and dequantization: a 2-layer model of width 192 trained for a few steps
 * on the shared sp1024 validation tokens and calibrated with its depth loop (layer 1 twice) on, so that tok_emb [1024, 192] and the MLP matrices [384, 192] and
 * [192, 384] exceed 65,536 values and the attention matrices and controls do not.
 */
class ModelQuantizerTest {
    private static final int VOCAB = 1024;
    private static final int ROWS = 8;
    private static final int SEQ_LEN = 64;
    private static final int TRAIN_STEPS = 30;
    private static final int CALIBRATION_BATCHES = 4;

    @TempDir
    static Path dir;
    private static CpuBackend backend;
    private static PgolfConfig config;
    private static Gpt model;
    private static Hessians hessians;
    private static QuantizedModel quantized;

    @BeforeAll
    static void trainCalibrateQuantize() throws IOException {
        SharedFiles.unxz(SharedFiles.root().resolve("data/datasets/fineweb10B_sp1024/fineweb_val_000000.bin.xz"), dir);
        int[] tokens = Shards.validationTokens(dir, SEQ_LEN).toIntArray();
        config = PgolfConfig.load(Optional.empty(), Map.ofEntries(Map.entry("VOCAB_SIZE", "1024"),
                Map.entry("NUM_LAYERS", "2"), Map.entry("MODEL_DIM", "192"), Map.entry("EMBEDDING_DIM", "192"),
                Map.entry("NUM_HEADS", "4"), Map.entry("NUM_KV_HEADS", "2"), Map.entry("MLP_MULT", "2"),
                Map.entry("ROPE_DIMS", "16"), Map.entry("ROPE_TRAIN_SEQ_LEN", "64"), Map.entry("XSA_LAST_N", "1"),
                Map.entry("NUM_LOOPS", "1"),
                Map.entry("LOOP_START", "1"), Map.entry("LOOP_END", "1"), Map.entry("TRAIN_SEQ_LEN", "64"), Map.entry("EVAL_SEQ_LEN", "64")),
                List.of());
        backend = new CpuBackend(2);
        GptLayout layout = new GptLayout(config.model(), VOCAB, config.optimizer().tiedEmbedInitStd());
        model = Gpt.initialized(backend, layout, 7);
        ModelOptimizer optimizer = new ModelOptimizer(model.parameters(), config.optimizer(), true);
        TrainingEngine engine = new TrainingEngine(model, optimizer, 1);
        for (int step = 0; step < TRAIN_STEPS; step++) {
            engine.accumulate(batch(tokens, step));
            engine.step(step, 1.0);
        }
        List<TrainBatch> calibration = new ArrayList<>();
        for (int i = 0; i < CALIBRATION_BATCHES; i++) {
            calibration.add(batch(tokens, TRAIN_STEPS + i));
        }
        model.setLooping(true);
        hessians = HessianCollector.collect(model, calibration, ModelQuantizer.gptqWeights(model.parameters()));
        quantized = new ModelQuantizer(config.quant(), 2).quantize(model.parameters(), hessians);
        optimizer.close();
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    private static TrainBatch batch(int[] tokens, int index) {
        int window = SEQ_LEN + 1;
        int from = index * ROWS * window;
        return new TrainBatch(index, 0, ROWS, SEQ_LEN, Tokens.of(tokens, from, from + ROWS * window));
    }

    @Test
    void tensorsAreTreatedAsTheReferenceTreatsThem() {
        List<String> gptq = new ArrayList<>();
        for (QuantizedTensor t : quantized.tensors()) {
            if (t instanceof QuantizedTensor.Codes codes) {
                gptq.add(t.name());
                assertEquals(t.name().equals("tok_emb.weight") ? 8 : 6, codes.bits(), t.name());
            } else {
                long size = model.parameters().get(t.name()).value().size();
                assertTrue(size <= ModelQuantizer.PASSTHROUGH_MAX_ELEMENTS, t.name() + " passes through with " + size);
            }
        }
        assertEquals(List.of("tok_emb.weight", "blocks.0.mlp.fc.weight", "blocks.0.mlp.proj.weight",
                "blocks.1.mlp.fc.weight", "blocks.1.mlp.proj.weight"), gptq);
        assertEquals(model.parameters().names(), quantized.tensors().stream().map(QuantizedTensor::name).toList());
    }

    @Test
    void gptqErrorUnderTheHessianIsBelowRoundToNearest() {
        SequencedMap<String, float[]> weights = model.parameters().valuesOnHost();
        for (QuantizedTensor t : quantized.tensors()) {
            if (t instanceof QuantizedTensor.Codes codes) {
                float[] w = weights.get(t.name());
                Hessian h = hessians.get(t.name());
                double gptq = weightedError(w, codes.dequantize(), h);
                double nearest = weightedError(w, roundToNearest(w, codes), h);
                System.out.printf("%-26s tr((W-Q)H(W-Q)^T): GPTQ %.5e, round-to-nearest %.5e (%.1f%%)%n", t.name(),
                        gptq, nearest, 100 * gptq / nearest);
                assertTrue(gptq < nearest, t.name() + ": GPTQ " + gptq + " vs round-to-nearest " + nearest);
            }
        }
    }

    @Test
    void loadingPutsCodeTimesScaleAndFloat16ValuesIntoTheModel() {
        SequencedMap<String, float[]> original = model.parameters().valuesOnHost();
        try (Gpt restored = Gpt.zeros(backend, model.layout())) {
            quantized.loadInto(restored.parameters());
            SequencedMap<String, float[]> loaded = restored.parameters().valuesOnHost();
            for (QuantizedTensor t : quantized.tensors()) {
                float[] expected;
                if (t instanceof QuantizedTensor.Codes codes) {
                    int cols = codes.shape()[1];
                    expected = new float[codes.codes().length];
                    for (int i = 0; i < expected.length; i++) {
                        expected[i] = codes.codes()[i] * Float.float16ToFloat(codes.scales()[i / cols]);
                    }
                } else {
                    assertInstanceOf(QuantizedTensor.Float16.class, t);
                    float[] values = original.get(t.name());
                    expected = new float[values.length];
                    for (int i = 0; i < values.length; i++) {
                        expected[i] = Float.float16ToFloat(Float.floatToFloat16(values[i]));
                    }
                }
                assertArrayEquals(expected, loaded.get(t.name()), t.name());
            }
        }
    }

    /** clamp(round(w / s), -range, range) * s per row, with GPTQ's own scales. */
    private static float[] roundToNearest(float[] w, QuantizedTensor.Codes codes) {
        int cols = codes.shape()[1];
        float range = (1 << (codes.bits() - 1)) - 1;
        float[] out = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            float s = Float.float16ToFloat(codes.scales()[i / cols]);
            out[i] = Math.max(-range, Math.min(range, (float) Math.rint(w[i] / s))) * s;
        }
        return out;
    }

    /** sum over rows of (w - q) H (w - q)^T, in float64. */
    private static double weightedError(float[] w, float[] q, Hessian h) {
        int n = h.dim();
        int rows = w.length / n;
        double total = 0;
        double[] d = new double[n];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < n; c++) {
                d[c] = (double) w[r * n + c] - q[r * n + c];
            }
            for (int i = 0; i < n; i++) {
                double hd = 0;
                for (int j = 0; j < n; j++) {
                    hd += h.values()[i * n + j] * d[j];
                }
                total += d[i] * hd;
            }
        }
        return total;
    }
}
