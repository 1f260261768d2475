package io.pgolf.gpu;

import java.util.Arrays;

/**
 * Shape checks of the operations on stacked matrices (weights stacked by rows, Muon's stacks), the same for every
 * backend and made before any work starts; each backend adds its own type checks.
 */
public final class StackChecks {
    private StackChecks() {
    }

    /**
     * Requires {@code block}'s rows to be rows [firstRow, firstRow + block.rows()) of {@code whole}, a float matrix
     * with the same row length: the operands of {@link TensorOps#copyRows} and {@link TensorOps#addRows}.
     */
    public static void requireRowBlock(Tensor block, Tensor whole, int firstRow, String op) {
        if (block.dtype() == DType.I32 || whole.dtype() == DType.I32 || block.dim(-1) != whole.dim(-1)
                || firstRow < 0 || (long) firstRow + block.rows() > whole.rows()) {
            throw new IllegalArgumentException(op + ": " + block.describe() + " is not a float row block of "
                    + whole.describe() + " from row " + firstRow);
        }
    }

    /**
     * Requires the momentum buffer of {@link OptimizerOps#nesterovMomentum} to be a stack [count, rows, cols] of the
     * gradients' count and its update a stack of the same shape.
     */
    public static void requireMomentumStacks(int count, Tensor buf, Tensor update) {
        if (buf.rank() != 3 || buf.dim(0) != count) {
            throw new IllegalArgumentException("momentum buffer must be a stack of " + count + " matrices, got "
                    + buf.describe());
        }
        if (!Arrays.equals(update.shape(), buf.shape())) {
            throw new IllegalArgumentException("momentum update " + update.describe() + " and buffer "
                    + buf.describe() + " differ in shape");
        }
    }
}
