package io.pgolf.gpu.parity;

/**
 * One backend operation on seeded random inputs, as the parity suite runs it on the reference and on the
 * candidate. {@code op} is the {@link io.pgolf.gpu.Backend} method (the key of {@link ToleranceTable}),
 * {@code variant} tells cases of one method apart (transposes, dtypes, aliasing), {@code shape} is for the report.
 */
public record OpCase(String scale, String op, String variant, String shape, Body body) {
    /** What a side does in one run: upload the inputs, run the operation, register its results. */
    @FunctionalInterface
    public interface Body {
        void run(Side side, CaseInputs inputs);
    }

    /** The operation and its variant, as the report shows them. */
    public String name() {
        return variant.isEmpty() ? op : op + "[" + variant + "]";
    }

    /** The name that --only matches: {@code scale/name}. */
    public String id() {
        return scale + "/" + name();
    }
}
