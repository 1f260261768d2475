package io.pgolf.model.quant;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * GPTQ of one weight matrix, as the reference's gptq_quantize_weight (R:662-697): columns are quantized one at a
 * time in order of decreasing Hessian diagonal, and each column's rounding error, weighted by the upper Cholesky
 * factor U of the inverse damped Hessian, is subtracted from the columns not yet quantized (within a block of 128
 * columns column by column, onto later blocks once per block).
 *
 * <p>Arithmetic follows the reference's float32 operations one by one: the quotient w / s, round half to even,
 * clamp, the error (w - q s) / U_jj, each update w - (err U_jc) with its product rounded first. The two places where
 * torch's result depends on its libraries are fixed here: U comes from float64 factorizations (see
 * {@link InverseCholesky}) and the block update Err @ U sums its 128 products in column order with fused
 * multiply-adds, as an sgemm kernel does. Rows are independent, so tiles of rows run all blocks in turn.
 */
public final class Gptq {
    /** Columns quantized between two propagations onto the remaining columns (the reference's block_size). */
    public static final int BLOCK_COLUMNS = 128;
    /** Relative damping added to the Hessian's diagonal: 0.01 * mean(diag H). */
    private static final float DAMPING = 0.01f;
    /** Rows quantized together; their work rows and block products stay in cache while a row of U streams past. */
    private static final int ROW_TILE = 16;
    /** The smallest per-row scale before float16 rounding (the reference's clamp_min(1e-10)). */
    private static final float MIN_SCALE = 1e-10f;

    private Gptq() {
    }

    /**
     * Quantizes {@code weight} [rows, cols] (row-major) under {@code hessian} [cols, cols] to codes in
     * [-(2^(bits-1) - 1), 2^(bits-1) - 1] with per-row scale clipSigmas * std(row) / (2^(bits-1) - 1) in float16.
     */
    public static QuantizedTensor.Codes quantize(String name, float[] weight, int rows, int cols, Hessian hessian,
                                                 double clipSigmas, int bits) {
        if (weight.length != (long) rows * cols) {
            throw new IllegalArgumentException(name + ": " + weight.length + " weights do not fit [" + rows + ", "
                    + cols + "]");
        }
        if (hessian.dim() != cols) {
            throw new IllegalArgumentException(name + ": Hessian " + hessian.name() + " is " + hessian.dim() + " x "
                    + hessian.dim() + " for a matrix of " + cols + " columns");
        }
        if (bits < 2 || bits > 8) {
            throw new IllegalArgumentException(name + ": bits must be in 2..8, got " + bits);
        }
        float clipRange = (1 << (bits - 1)) - 1;
        short[] scales = rowScales(weight, rows, cols, (float) clipSigmas, clipRange);
        ColumnOrder order = ColumnOrder.of(name, hessian);
        float[] factor;
        try {
            factor = InverseCholesky.upperFactorOfInverse(order.permutedDampedHessian(), cols);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(name + ": the damped Hessian " + hessian.name() + " is not positive definite ("
                    + e.getMessage() + ")", e);
        }
        byte[] codes = new byte[weight.length];
        RowTile tile = new RowTile(Math.min(ROW_TILE, rows), cols);
        for (int r0 = 0; r0 < rows; r0 += ROW_TILE) {
            int count = Math.min(ROW_TILE, rows - r0);
            for (int t = 0; t < count; t++) {
                for (int j = 0; j < cols; j++) {
                    tile.work[t][j] = order.dead(j) ? 0f : weight[(r0 + t) * cols + order.column(j)];
                }
                tile.scales[t] = Float.float16ToFloat(scales[r0 + t]);
            }
            quantizeTile(tile, count, clipRange, factor, cols);
            for (int t = 0; t < count; t++) {
                for (int j = 0; j < cols; j++) {
                    codes[(r0 + t) * cols + order.column(j)] = tile.codes[t][j];
                }
            }
        }
        return new QuantizedTensor.Codes(name, new int[] {rows, cols}, bits, codes, scales);
    }

    /** Rows in permuted column order, quantized together so that each row of U is read once per tile. */
    private static final class RowTile {
        final float[][] work;
        final float[] scales;
        final byte[][] codes;
        final float[][] errors;
        final float[][] products;

        RowTile(int rows, int cols) {
            work = new float[rows][cols];
            scales = new float[rows];
            codes = new byte[rows][cols];
            errors = new float[rows][BLOCK_COLUMNS];
            products = new float[rows][cols];
        }
    }

    /** The reference's block loop over {@code count} rows of a tile ({@code work} changes in place). */
    private static void quantizeTile(RowTile tile, int count, float clipRange, float[] u, int n) {
        for (int start = 0; start < n; start += BLOCK_COLUMNS) {
            int end = Math.min(start + BLOCK_COLUMNS, n);
            for (int t = 0; t < count; t++) {
                quantizeBlock(tile.work[t], tile.scales[t], clipRange, u, n, start, end, tile.codes[t], tile.errors[t]);
            }
            if (end < n) {
                // W[:, end:] -= Err @ U[start:end, end:], the product summed first as its own tensor.
                for (int t = 0; t < count; t++) {
                    Arrays.fill(tile.products[t], end, n, 0f);
                }
                for (int k = start; k < end; k++) {
                    for (int t = 0; t < count; t++) {
                        VectorKernels.fusedAxpy(tile.errors[t][k - start], u, k * n + end, tile.products[t], end, n - end);
                    }
                }
                for (int t = 0; t < count; t++) {
                    float[] work = tile.work[t];
                    float[] product = tile.products[t];
                    for (int c = end; c < n; c++) {
                        work[c] -= product[c];
                    }
                }
            }
        }
    }

    /** Columns [start, end) of one row: quantize each, then W_block[j+1:] -= err * U[j, j+1:end]. */
    private static void quantizeBlock(float[] work, float scale, float clipRange, float[] u, int n, int start, int end,
                                      byte[] codes, float[] errors) {
        for (int j = start; j < end; j++) {
            float w = work[j];
            float q = quantized(w, scale, clipRange);
            // torch converts float to int8 with NaN becoming 0.
            codes[j] = (byte) (int) q;
            float error = (w - q * scale) / u[j * n + j];
            errors[j - start] = error;
            VectorKernels.subtractProduct(error, u, j * n + j + 1, work, j + 1, end - j - 1);
        }
    }

    /**
     * clamp(round(w / s), -range, range) as float32, NaN kept (torch's clamp propagates it): a row whose scale
     * rounds to zero in float16 gives 0/0 for its zero weights, and NaN then spreads along the row as in the
     * reference.
     */
    private static float quantized(float w, float scale, float clipRange) {
        float q = (float) Math.rint(w / scale);
        return Float.isNaN(q) ? q : Math.max(-clipRange, Math.min(clipRange, q));
    }

    /**
     * float16(max(clipSigmas * std / range, 1e-10)) per row, std unbiased over the original row (dead columns
     * included), accumulated in float64 as torch's CPU std (Welford in double), then rounded to float32.
     */
    static short[] rowScales(float[] weight, int rows, int cols, float clipSigmas, float clipRange) {
        short[] scales = new short[rows];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int c = 0; c < cols; c++) {
                sum += weight[r * cols + c];
            }
            double mean = sum / cols;
            double squares = 0;
            for (int c = 0; c < cols; c++) {
                double d = weight[r * cols + c] - mean;
                squares += d * d;
            }
            float std = (float) Math.sqrt(squares / (cols - 1));
            scales[r] = Float.floatToFloat16(Math.max(clipSigmas * std / clipRange, MIN_SCALE));
        }
        return scales;
    }

    /**
     * The reference's column order: dead columns (H_jj = 0) get H_jj = 1, then every diagonal entry gets
     * 0.01 * mean(diag H) added in float32 (the mean summed in float64 and rounded; torch's float32 pairwise sum
     * can differ from it in the last bit), and columns are sorted by decreasing diagonal. torch's argsort is not
     * stable, so the order among equal diagonals is unspecified. Dead columns all tie at 1 + damp, but in X^T X a
     * zero diagonal means a zero row and column, which makes a dead column independent of all others and its order
     * irrelevant; only exactly equal live diagonals could make the orders differ. Ties here keep index order.
     */
    private record ColumnOrder(int[] columns, boolean[] deadAt, double[] permuted) {
        static ColumnOrder of(String name, Hessian hessian) {
            int n = hessian.dim();
            float[] h = hessian.values().clone();
            boolean[] dead = new boolean[n];
            double diagonalSum = 0;
            for (int j = 0; j < n; j++) {
                float d = h[j * n + j];
                if (!Float.isFinite(d)) {
                    throw new IllegalArgumentException(name + ": Hessian " + hessian.name() + " has " + d
                            + " on its diagonal at " + j);
                }
                if (d == 0f) {
                    dead[j] = true;
                    h[j * n + j] = 1f;
                }
                diagonalSum += h[j * n + j];
            }
            float damp = DAMPING * (float) (diagonalSum / n);
            for (int j = 0; j < n; j++) {
                h[j * n + j] += damp;
            }
            int[] columns = IntStream.range(0, n).boxed()
                    .sorted(Comparator.comparingDouble((Integer j) -> h[j * n + j]).reversed())
                    .mapToInt(Integer::intValue).toArray();
            boolean[] deadAt = new boolean[n];
            double[] permuted = new double[n * n];
            for (int i = 0; i < n; i++) {
                deadAt[i] = dead[columns[i]];
                for (int j = 0; j < n; j++) {
                    permuted[i * n + j] = h[columns[i] * n + columns[j]];
                }
            }
            return new ColumnOrder(columns, deadAt, permuted);
        }

        /** The original column at position j of the order. */
        int column(int j) {
            return columns[j];
        }

        boolean dead(int j) {
            return deadAt[j];
        }

        double[] permutedDampedHessian() {
            return permuted;
        }
    }
}
