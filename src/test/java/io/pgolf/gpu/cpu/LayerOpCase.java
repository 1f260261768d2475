package io.pgolf.gpu.cpu;

import java.util.List;

/**
 * One layer operation under test, seen as float arrays: its inputs, its forward (one output), its backward and an
 * obviously correct float64 forward to compare with. The inputs are the differentiable ones (token ids and
 * targets are part of the operation). The upstream gradient is the one the gradient checks use; backward adds into
 * the gradient arrays it is given, one per input. Operations without a backward have none.
 */
record LayerOpCase(String name, List<Input> inputs, Forward forward, Backward backward, Reference reference,
                   float[] upstream) {
    record Input(String name, float[] values) {
    }

    @FunctionalInterface
    interface Forward {
        float[] run(float[][] inputs);
    }

    @FunctionalInterface
    interface Backward {
        void run(float[][] inputs, float[] upstream, float[][] gradients);
    }

    @FunctionalInterface
    interface Reference {
        double[] run(float[][] inputs);
    }

    boolean hasBackward() {
        return backward != null;
    }

    /** The inputs' current values, in order. */
    float[][] values() {
        return inputs.stream().map(Input::values).toArray(float[][]::new);
    }

    /** Zero-filled gradient arrays, one per input. */
    float[][] zeroGradients() {
        return inputs.stream().map(in -> new float[in.values().length]).toArray(float[][]::new);
    }

    /** The backward's gradients, added onto zeros. */
    float[][] gradients() {
        float[][] gradients = zeroGradients();
        backward.run(values(), upstream, gradients);
        return gradients;
    }

    @Override
    public String toString() {
        return name;
    }
}
