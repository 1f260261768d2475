package io.pgolf.model;

import java.util.Arrays;

/** One parameter of a layout: its reference name, shape and initialization. */
public record ParameterSpec(String name, int[] shape, ParameterInit init) {
    public ParameterSpec {
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + " " + init;
    }
}
