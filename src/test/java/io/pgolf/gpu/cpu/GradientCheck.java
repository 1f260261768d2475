package io.pgolf.gpu.cpu;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks of a backward operation: against central finite differences of its forward along random directions,
 * and that it adds into its gradient outputs rather than overwriting them.
 */
final class GradientCheck {
    private GradientCheck() {
    }

    /**
     * For every input x and a few random directions d: with L = sum(upstream * forward) in
     * float64, (L(x + h d) - L(x - h d)) must match the gradient's prediction <grad, (x + h d) - (x - h d)> to
     * within {@code tolerance} times the sum of the absolute terms of that prediction. The perturbation is
     * measured after rounding to float, so rounding of x itself does not count as error.
     */
    static void assertMatchesFiniteDifferences(LayerOpCase op, Random random, double step, double tolerance) {
        float[][] gradients = op.gradients();
        for (int i = 0; i < op.inputs().size(); i++) {
            for (int trial = 0; trial < 3; trial++) {
                float[] x = op.inputs().get(i).values();
                float[][] plus = op.values();
                float[][] minus = op.values();
                plus[i] = x.clone();
                minus[i] = x.clone();
                for (int k = 0; k < x.length; k++) {
                    double direction = random.nextGaussian();
                    plus[i][k] = (float) (x[k] + step * direction);
                    minus[i][k] = (float) (x[k] - step * direction);
                }
                double sum = 0;
                double absSum = 0;
                for (int k = 0; k < x.length; k++) {
                    double term = (double) gradients[i][k] * ((double) plus[i][k] - minus[i][k]);
                    sum += term;
                    absSum += Math.abs(term);
                }
                double predicted = sum;
                double magnitude = absSum;
                double measured = objective(op, plus) - objective(op, minus);
                String input = op.inputs().get(i).name();
                assertTrue(Math.abs(measured - predicted) <= tolerance * magnitude,
                        () -> op.name() + ": gradient of " + input + " predicts a change of " + predicted
                                + ", finite differences measure " + measured + " (scale " + magnitude + ")");
            }
        }
    }

    private static double objective(LayerOpCase op, float[][] inputs) {
        float[] out = op.forward().run(inputs);
        double sum = 0;
        for (int k = 0; k < out.length; k++) {
            sum += (double) op.upstream()[k] * out[k];
        }
        return sum;
    }

    /** Running the backward twice onto random gradient buffers g0 must leave g0 + 2 grad. */
    static void assertBackwardAdds(LayerOpCase op, Random random) {
        float[][] gradients = op.gradients();
        float[][] start = op.zeroGradients();
        float[][] buffers = new float[start.length][];
        for (int i = 0; i < start.length; i++) {
            for (int k = 0; k < start[i].length; k++) {
                start[i][k] = (float) random.nextGaussian();
            }
            buffers[i] = start[i].clone();
        }
        op.backward().run(op.values(), op.upstream(), buffers);
        op.backward().run(op.values(), op.upstream(), buffers);
        for (int i = 0; i < start.length; i++) {
            for (int k = 0; k < start[i].length; k++) {
                double expected = start[i][k] + 2.0 * gradients[i][k];
                double bound = 1e-5 * (Math.abs(start[i][k]) + 2 * Math.abs(gradients[i][k])) + 1e-6;
                int element = k;
                String input = op.inputs().get(i).name();
                float initial = start[i][k];
                float got = buffers[i][k];
                assertTrue(Math.abs(got - expected) <= bound, () -> op.name() + ": gradient of " + input + "[" + element
                        + "] after two backward passes onto " + initial + " is " + got + ", expected " + expected);
            }
        }
    }
}
