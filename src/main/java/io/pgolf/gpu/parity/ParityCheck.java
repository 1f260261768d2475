package io.pgolf.gpu.parity;

/**
 * One line of the parity report: a result of a check, its largest absolute difference from the reference, its
 * relative error ||candidate - reference|| / ||reference|| (the norm of the difference itself when the reference is
 * all zero) and the tolerance on that relative error. {@code error} is null unless the candidate failed to produce
 * the result (it threw); NaN or infinite differences fail.
 */
public record ParityCheck(String scale, String check, String result, String shape, String dtype, double maxAbs,
                          double relative, double tolerance, String error) {
    public boolean passed() {
        return error == null && relative <= tolerance;
    }

    /** The name that --only matches: {@code scale/check}. */
    public String id() {
        return scale + "/" + check;
    }

    /** Compares a candidate's values with the reference's. */
    public static ParityCheck compare(String scale, String check, String result, String shape, String dtype,
                                      float[] candidate, float[] reference, double tolerance) {
        if (candidate.length != reference.length) {
            return failed(scale, check, result, shape, dtype, tolerance, candidate.length
                    + " values where the reference has " + reference.length);
        }
        double maxAbs = 0;
        double differenceSquares = 0;
        double referenceSquares = 0;
        for (int i = 0; i < reference.length; i++) {
            double d = Math.abs((double) candidate[i] - reference[i]);
            // NaN must win: Math.max propagates it, a comparison would drop it.
            maxAbs = Math.max(maxAbs, d);
            differenceSquares += d * d;
            referenceSquares += (double) reference[i] * reference[i];
        }
        double relative = referenceSquares == 0
                ? Math.sqrt(differenceSquares)
                : Math.sqrt(differenceSquares / referenceSquares);
        return new ParityCheck(scale, check, result, shape, dtype, maxAbs, relative, tolerance, null);
    }

    /** A result the candidate did not produce; the tolerance is NaN where no single one applies. */
    public static ParityCheck failed(String scale, String check, String result, String shape, String dtype,
                                     double tolerance, String error) {
        return new ParityCheck(scale, check, result, shape, dtype, Double.NaN, Double.NaN, tolerance, error);
    }
}
