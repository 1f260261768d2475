package io.pgolf.gpu;

import java.util.Arrays;

/**
 * A dense, row-major tensor owned by one backend. Its contents are reachable only through the backend's
 * operations (they may live on a GPU). Closing it returns its memory to the backend; using it afterwards is an
 * error.
 */
public interface Tensor extends AutoCloseable {
    DType dtype();

    /** The dimensions, outermost first; never modified by the caller (a copy is not guaranteed). */
    int[] shape();

    default int rank() {
        return shape().length;
    }

    default int dim(int axis) {
        int[] s = shape();
        return s[axis < 0 ? s.length + axis : axis];
    }

    default long size() {
        long n = 1;
        for (int d : shape()) {
            n *= d;
        }
        return n;
    }

    /** Rows when viewed as a matrix whose last dimension is the row length. */
    default int rows() {
        return Math.toIntExact(size() / dim(-1));
    }

    default String describe() {
        return dtype() + Arrays.toString(shape());
    }

    @Override
    void close();
}
