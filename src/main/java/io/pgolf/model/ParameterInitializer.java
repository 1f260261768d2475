package io.pgolf.model;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import java.util.stream.IntStream;

/**
 * Draws initial values for a layout's parameters. torch's RNG cannot be reproduced in Java, so values follow the
 * reference's distributions, not its numbers: each parameter draws from its own {@link SplittableRandom} seeded
 * from the run seed and the parameter's position, which keeps the result independent of thread scheduling.
 */
public final class ParameterInitializer {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private ParameterInitializer() {
    }

    /** Initial values of every spec, in order (computed in parallel: the orthogonal inits dominate). */
    public static List<float[]> draw(List<ParameterSpec> specs, long seed) {
        return IntStream.range(0, specs.size()).parallel()
                .mapToObj(i -> draw(specs.get(i), new SplittableRandom(seed + GOLDEN_GAMMA * (i + 1))))
                .toList();
    }

    static float[] draw(ParameterSpec spec, RandomGenerator rng) {
        int[] shape = spec.shape();
        float[] values = new float[Math.toIntExact(spec.elementCount())];
        switch (spec.init()) {
            case ParameterInit.Normal(double std) -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) (std * rng.nextGaussian());
                }
            }
            case ParameterInit.Orthogonal() -> {
                requireMatrix(spec);
                return Orthogonal.matrix(shape[0], shape[1], rng);
            }
            case ParameterInit.LinearDefault() -> {
                requireMatrix(spec);
                double bound = 1.0 / Math.sqrt(shape[1]);
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) rng.nextDouble(-bound, bound);
                }
            }
            case ParameterInit.Constant(float value) -> Arrays.fill(values, value);
            case ParameterInit.RowConstants rows -> {
                float[] rowValues = rows.rowValues();
                if (shape.length != 2 || shape[0] != rowValues.length) {
                    throw new IllegalArgumentException(spec.name() + ": " + rowValues.length
                            + " row values for shape " + Arrays.toString(shape));
                }
                for (int r = 0; r < shape[0]; r++) {
                    Arrays.fill(values, r * shape[1], (r + 1) * shape[1], rowValues[r]);
                }
            }
        }
        return values;
    }

    private static void requireMatrix(ParameterSpec spec) {
        if (spec.shape().length != 2) {
            throw new IllegalArgumentException(spec.name() + ": " + spec.init() + " needs a matrix, got shape "
                    + Arrays.toString(spec.shape()));
        }
    }
}
