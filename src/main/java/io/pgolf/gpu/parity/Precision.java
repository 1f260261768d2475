package io.pgolf.gpu.parity;

/**
 * How closely a candidate's result must follow the reference, as the relative error ||candidate - reference|| /
 * ||reference|| over the whole result. Unit roundoff (half the spacing of numbers near 1): float32, 24 significant
 * bits, 2^-24 ≈ 6e-8; bfloat16, 8 significant bits (7 stored), 2^-8 ≈ 3.9e-3. Rounding random values to bfloat16
 * costs ≈ 1.7e-3 in this norm (measured: BackendParityTest's bf16-storage candidate).
 */
public enum Precision {
    /**
     * Values moved or converted without arithmetic: a bfloat16 result must be the reference's value rounded to the
     * nearest bfloat16 (ties to even), bit for bit.
     */
    EXACT(0.0),
    /**
     * Float32 arithmetic on identical inputs, stored in float32: only the order of float32 sums may differ
     * (≈ sqrt(n) * 2^-24 ≤ 5e-6 for the sums here, of n ≤ 8192 terms).
     */
    FLOAT32(1e-5),
    /**
     * Float32 arithmetic, result stored as bfloat16: the final rounding alone costs up to 2^-8 per element, ≈ 1.7e-3
     * in norm; 1e-2 leaves room for two or three more bfloat16 roundings inside the kernel, not for a wrong formula.
     */
    BF16_RESULT(1e-2),
    /**
     * Products of bfloat16 operands with float32 accumulation (a GEMM with a bfloat16 operand or result, whose
     * float32 operands are rounded to bfloat16 first; flash attention's P V): ≈ 1.7e-3 from each rounded operand,
     * plus the result's rounding when it is bfloat16 (≈ 2.4e-3 together, measured).
     */
    BF16_PRODUCTS(1e-2),
    /**
     * Flash attention's backward: P, dO and dS enter its GEMMs as bfloat16, and dS = P (dP - D) subtracts nearly
     * equal terms, so dQ, dK and dV carry a few bfloat16 roundings each before their own.
     */
    BF16_ATTENTION_GRADIENTS(2e-2);

    private final double relative;

    Precision(double relative) {
        this.relative = relative;
    }

    /** The largest relative error that passes. */
    public double relative() {
        return relative;
    }
}
