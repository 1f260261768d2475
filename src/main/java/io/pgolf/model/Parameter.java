package io.pgolf.model;

import io.pgolf.gpu.Tensor;

import java.util.Arrays;

/**
 * A trainable tensor under the reference's name ({@code blocks.3.attn.c_q.weight}) with the gradient the
 * backward pass accumulates into. Both live on the model's backend; grad has value's shape, F32.
 */
public record Parameter(String name, Tensor value, Tensor grad) implements AutoCloseable {
    public Parameter {
        if (!Arrays.equals(value.shape(), grad.shape())) {
            throw new IllegalArgumentException(name + ": gradient shape " + grad.describe()
                    + " differs from value " + value.describe());
        }
    }

    public int[] shape() {
        return value.shape();
    }

    @Override
    public void close() {
        value.close();
        grad.close();
    }
}
