package io.pgolf.model.quant;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise updates GPTQ's loops spend their time in, through the Vector API. Each element gets exactly the
 * IEEE operations its scalar form states (lanes never combine), so results do not depend on the vector width.
 */
final class VectorKernels {
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;

    private VectorKernels() {
    }

    /** y[yFrom + i] = fma(a, x[xFrom + i], y[yFrom + i]) for i < length. */
    static void fusedAxpy(double a, double[] x, int xFrom, double[] y, int yFrom, int length) {
        int i = 0;
        DoubleVector av = DoubleVector.broadcast(DOUBLES, a);
        for (int bound = DOUBLES.loopBound(length); i < bound; i += DOUBLES.length()) {
            DoubleVector xv = DoubleVector.fromArray(DOUBLES, x, xFrom + i);
            xv.fma(av, DoubleVector.fromArray(DOUBLES, y, yFrom + i)).intoArray(y, yFrom + i);
        }
        for (; i < length; i++) {
            y[yFrom + i] = Math.fma(a, x[xFrom + i], y[yFrom + i]);
        }
    }

    /** y[yFrom + i] = fma(a, x[xFrom + i], y[yFrom + i]) for i < length, in float32. */
    static void fusedAxpy(float a, float[] x, int xFrom, float[] y, int yFrom, int length) {
        int i = 0;
        FloatVector av = FloatVector.broadcast(FLOATS, a);
        for (int bound = FLOATS.loopBound(length); i < bound; i += FLOATS.length()) {
            FloatVector xv = FloatVector.fromArray(FLOATS, x, xFrom + i);
            xv.fma(av, FloatVector.fromArray(FLOATS, y, yFrom + i)).intoArray(y, yFrom + i);
        }
        for (; i < length; i++) {
            y[yFrom + i] = Math.fma(a, x[xFrom + i], y[yFrom + i]);
        }
    }

    /** y[yFrom + i] = y[yFrom + i] - float(a * x[xFrom + i]): the product rounded first, as torch's two operations. */
    static void subtractProduct(float a, float[] x, int xFrom, float[] y, int yFrom, int length) {
        int i = 0;
        FloatVector av = FloatVector.broadcast(FLOATS, a);
        for (int bound = FLOATS.loopBound(length); i < bound; i += FLOATS.length()) {
            FloatVector product = FloatVector.fromArray(FLOATS, x, xFrom + i).mul(av);
            FloatVector.fromArray(FLOATS, y, yFrom + i).sub(product).intoArray(y, yFrom + i);
        }
        for (; i < length; i++) {
            y[yFrom + i] -= a * x[xFrom + i];
        }
    }
}
