package io.pgolf.gpu;

/**
 * Checks of the fused backwards' operands that every backend makes alike, before any work starts (each backend adds
 * its own shape and type checks).
 */
public final class FusedBackwardChecks {
    private FusedBackwardChecks() {
    }

    /**
     * Requires {@link LayerOps#scaledResidualRmsNormBackward}'s out gradient to have somewhere to go: dX, or else
     * dOut, which it then replaces.
     */
    public static void requireTotalGradientTarget(Tensor dX, Tensor dOut) {
        if (dX == null && dOut == null) {
            throw new IllegalArgumentException("without dX the total gradient replaces dOut, which is missing");
        }
    }
}
