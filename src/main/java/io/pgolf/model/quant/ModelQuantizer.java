package io.pgolf.model.quant;

import io.pgolf.config.QuantConfig;
import io.pgolf.model.Parameter;
import io.pgolf.model.ParameterSet;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A whole model to {@link QuantizedModel}, as the reference's gptq_mixed_quantize (R:699-721): a tensor of at most
 * 65,536 values, or one that is not a matrix, passes through as float16; {@code tok_emb} is GPTQ-quantized with
 * EMBED_BITS and EMBED_CLIP_SIGMAS; every other matrix with MATRIX_BITS and MATRIX_CLIP_SIGMAS. Matrices are
 * independent, so they are quantized on {@code threads} threads, largest first.
 */
public final class ModelQuantizer {
    /** The largest tensor kept as float16 rather than quantized. */
    public static final long PASSTHROUGH_MAX_ELEMENTS = 65_536;

    private final QuantConfig config;
    private final int threads;

    public ModelQuantizer(QuantConfig config, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("quantization needs at least one thread, got " + threads);
        }
        this.config = config;
        this.threads = threads;
    }

    /** Whether a tensor of this shape is GPTQ-quantized (and so needs a Hessian). */
    public static boolean usesGptq(int[] shape) {
        long size = 1;
        for (int d : shape) {
            size *= d;
        }
        return shape.length == 2 && size > PASSTHROUGH_MAX_ELEMENTS;
    }

    /** The parameters GPTQ quantizes, in order: the weights {@link HessianCollector} must calibrate. */
    public static List<String> gptqWeights(ParameterSet parameters) {
        return parameters.list().stream().filter(p -> usesGptq(p.shape())).map(Parameter::name).toList();
    }

    /** Every parameter, in order, quantized under {@code hessians} (one for each of {@link #gptqWeights}). */
    public QuantizedModel quantize(ParameterSet parameters, Hessians hessians) {
        SequencedMap<String, float[]> values = parameters.valuesOnHost();
        Map<String, Future<QuantizedTensor>> gptq = new LinkedHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Parameter> largestFirst = new ArrayList<>(parameters.list().stream()
                    .filter(p -> usesGptq(p.shape())).toList());
            largestFirst.sort(Comparator.comparingDouble(ModelQuantizer::gptqCost).reversed());
            for (Parameter p : largestFirst) {
                Hessian hessian = hessians.get(p.name());
                float[] weight = values.get(p.name());
                gptq.put(p.name(), pool.submit(() -> quantizeMatrix(p.name(), weight, p.shape(), hessian)));
            }
            List<QuantizedTensor> tensors = new ArrayList<>();
            for (Parameter p : parameters) {
                Future<QuantizedTensor> quantized = gptq.get(p.name());
                tensors.add(quantized != null ? quantized.get() : float16(p.name(), values.get(p.name()), p.shape().clone()));
            }
            return new QuantizedModel(tensors);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("GPTQ failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during GPTQ", e);
        } finally {
            pool.shutdownNow();
        }
    }

    private QuantizedTensor quantizeMatrix(String name, float[] weight, int[] shape, Hessian hessian) {
        boolean embedding = name.contains("tok_emb");
        int bits = embedding ? config.embedBits() : config.matrixBits();
        double clipSigmas = embedding ? config.embedClipSigmas() : config.matrixClipSigmas();
        return Gptq.quantize(name, weight, shape[0], shape[1], hessian, clipSigmas, bits);
    }

    /** Work of one GPTQ: the column loop (rows x cols^2) and the factorizations (cols^3). */
    private static double gptqCost(Parameter p) {
        double rows = p.shape()[0];
        double cols = p.shape()[1];
        return rows * cols * cols + cols * cols * cols;
    }

    /** A tensor cast to float16 as torch casts (round to nearest even). */
    private static QuantizedTensor.Float16 float16(String name, float[] values, int[] shape) {
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToFloat16(values[i]);
        }
        return new QuantizedTensor.Float16(name, shape, bits);
    }
}
