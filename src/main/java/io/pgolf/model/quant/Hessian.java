package io.pgolf.model.quant;

/**
 * GPTQ's curvature of one weight matrix [rows, dim]: H = X^T X summed over the calibration inputs X [tokens, dim]
 * of its linear layer and divided by the number of calibration batches (the reference's collect_hessians).
 * {@code values} is [dim, dim] float32, row-major; the array is owned by the record and must not be modified.
 */
public record Hessian(String name, int dim, float[] values) {
    public Hessian {
        if (dim <= 0 || values.length != (long) dim * dim) {
            throw new IllegalArgumentException(name + ": a Hessian of dim " + dim + " cannot hold " + values.length
                    + " values");
        }
    }
}
