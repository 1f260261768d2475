package io.pgolf.gpu.parity;

import io.pgolf.gpu.Tensor;

import java.util.ArrayList;
import java.util.List;

import static io.pgolf.gpu.parity.Storage.ACTIVATION;
import static io.pgolf.gpu.parity.Storage.FLOAT32;

/**
 * Every {@link io.pgolf.gpu.TensorOps} operation as parity cases: in both storages where the model uses both, the
 * GEMM in all four transpose combinations, with beta 0 (over a NaN-filled c, which must be ignored) and 1, for each
 * dtype combination (float32 x float32 -> float32: Newton-Schulz, row selection; activation x float32 -> activation:
 * a linear layer and its input gradient; activation x activation -> float32: weight gradients, GPTQ's Hessians;
 * float32 x activation -> float32: the same with the operands the other way round), the batched GEMM likewise over
 * stacks of three, all operands float32 or all in the activation type (Newton-Schulz), and {@code add} with its
 * output aliasing either input.
 */
final class TensorOpCases {
    private static final float ALPHA = 0.75f;
    private static final float AXPBY_BETA = -1.25f;
    private static final float SCALE = -0.37f;
    /** Not a bfloat16 value, so that a fill of a bfloat16 tensor must round it. */
    private static final float FILL = 0.3f;
    private static final Storage[][] GEMM_STORAGES = {
            {FLOAT32, FLOAT32, FLOAT32}, {ACTIVATION, FLOAT32, ACTIVATION}, {FLOAT32, ACTIVATION, FLOAT32},
            {ACTIVATION, ACTIVATION, FLOAT32}};

    /** Matrices in a batched GEMM's stacks: three, so that no power of two hides an indexing slip. */
    private static final int GEMM_STACK = 3;

    private final ParityScale scale;
    private final int rows;
    private final int width;

    private TensorOpCases(ParityScale scale) {
        this.scale = scale;
        this.rows = scale.rows();
        this.width = scale.width();
    }

    static List<OpCase> of(ParityScale scale) {
        TensorOpCases cases = new TensorOpCases(scale);
        List<OpCase> all = new ArrayList<>();
        for (Storage s : Storage.values()) {
            all.add(cases.upload(s));
            all.add(cases.zeros(s));
            all.add(cases.empty(s));
        }
        all.add(cases.uploadInts());
        for (Storage from : Storage.values()) {
            for (Storage to : Storage.values()) {
                all.add(cases.copy(from, to));
            }
        }
        all.add(cases.copyInts());
        for (Storage from : Storage.values()) {
            for (Storage to : Storage.values()) {
                all.add(cases.copyRows(from, to));
            }
            all.add(cases.addRows(from));
        }
        for (Storage s : Storage.values()) {
            all.add(cases.fill(s));
        }
        for (boolean transposeA : new boolean[] {false, true}) {
            for (boolean transposeB : new boolean[] {false, true}) {
                for (float beta : new float[] {0f, 1f}) {
                    for (Storage[] storages : GEMM_STORAGES) {
                        all.add(cases.gemm(transposeA, transposeB, beta, storages[0], storages[1], storages[2]));
                    }
                }
            }
        }
        for (boolean transposeA : new boolean[] {false, true}) {
            for (boolean transposeB : new boolean[] {false, true}) {
                for (float beta : new float[] {0f, 1f}) {
                    for (Storage s : Storage.values()) {
                        all.add(cases.batchedGemm(transposeA, transposeB, beta, s));
                    }
                }
            }
        }
        for (Storage s : Storage.values()) {
            all.add(cases.axpby(s));
            all.add(cases.add(s));
            all.add(cases.scale(s));
            all.add(cases.transpose(s));
            all.add(cases.roundToBfloat16(s));
            all.add(cases.sumOfSquares(s));
        }
        all.add(cases.addInPlace(true));
        all.add(cases.addInPlace(false));
        return all;
    }

    static String dims(int... dims) {
        StringBuilder s = new StringBuilder();
        for (int d : dims) {
            s.append(s.isEmpty() ? "" : "x").append(d);
        }
        return s.toString();
    }

    static String label(Storage s) {
        return s == ACTIVATION ? "act" : "f32";
    }

    private OpCase op(String op, String variant, String shape, OpCase.Body body) {
        return new OpCase(scale.name(), op, variant, shape, body);
    }

    private OpCase upload(Storage s) {
        return op("upload", label(s), dims(rows, width),
                (side, in) -> side.result("values", side.upload(s, in.gaussian(rows * width), rows, width)));
    }

    private OpCase uploadInts() {
        return op("uploadInts", "", dims(rows),
                (side, in) -> side.result("values", side.ints(in.ints(rows, scale.vocab()), rows)));
    }

    /** Zeros in memory that held other values just before, as a caching allocator hands the block out again. */
    private OpCase zeros(Storage s) {
        return op("zeros", label(s), dims(rows, width), (side, in) -> {
            side.upload(s, in.gaussian(rows * width), rows, width).close();
            side.result("values", side.zeros(s, rows, width));
        });
    }

    /** An undefined tensor of the type and shape asked for, which a copy then fills completely. */
    private OpCase empty(Storage s) {
        return op("empty", label(s), dims(rows, width), (side, in) -> {
            Tensor src = side.upload(s, in.gaussian(rows * width), rows, width);
            side.tensors().copy(src, side.result("t", side.empty(s, rows, width)));
        });
    }

    /** A flat source into a matrix of the same size: copy goes by size, not shape. */
    private OpCase copy(Storage from, Storage to) {
        return op("copy", label(from) + "->" + label(to), dims(rows * width) + "->" + dims(rows, width),
                (side, in) -> {
                    Tensor src = side.upload(from, in.gaussian(rows * width), rows * width);
                    side.tensors().copy(src, side.output("dst", to, rows, width));
                });
    }

    private OpCase copyInts() {
        return op("copy", "i32->i32", dims(rows), (side, in) -> {
            Tensor src = side.ints(in.ints(rows, scale.vocab()), rows);
            side.tensors().copy(src, side.result("dst", side.ints(new int[rows], rows)));
        });
    }

    /** A third of the rows (at least one), ending a row before the last when there is room: both ends show. */
    private int blockRows() {
        return Math.max(1, rows / 3);
    }

    private int blockStart() {
        return Math.max(0, rows - blockRows() - 1);
    }

    /** A block into the middle of a matrix whose other rows must stay as they are. */
    private OpCase copyRows(Storage from, Storage to) {
        int block = blockRows();
        int start = blockStart();
        return op("copyRows", label(from) + "->" + label(to) + " at row " + start,
                dims(block, width) + "->" + dims(rows, width), (side, in) -> {
                    Tensor src = side.upload(from, in.gaussian(block * width), block, width);
                    Tensor dst = side.result("dst", side.upload(to, in.gaussian(rows * width), rows, width));
                    side.tensors().copyRows(src, dst, start);
                });
    }

    /** A block of a matrix added into a float32 accumulator, as a stacked weight gradient into one weight's. */
    private OpCase addRows(Storage from) {
        int block = blockRows();
        int start = blockStart();
        return op("addRows", label(from) + "->f32 from row " + start, dims(rows, width) + "->" + dims(block, width),
                (side, in) -> {
                    Tensor src = side.upload(from, in.gaussian(rows * width), rows, width);
                    side.tensors().addRows(src, start, side.accumulator("dst", FLOAT32, block, width));
                });
    }

    private OpCase fill(Storage s) {
        return op("fill", label(s), dims(rows, width),
                (side, in) -> side.tensors().fill(side.output("t", s, rows, width), FILL));
    }

    private OpCase gemm(boolean transposeA, boolean transposeB, float beta, Storage a, Storage b, Storage c) {
        int m = scale.gemmM();
        int n = scale.gemmN();
        int k = scale.gemmK();
        int[] aShape = transposeA ? new int[] {k, m} : new int[] {m, k};
        int[] bShape = transposeB ? new int[] {n, k} : new int[] {k, n};
        String variant = (transposeA ? "T" : "N") + (transposeB ? "T" : "N") + " beta" + (int) beta + " "
                + label(a) + "*" + label(b) + "->" + label(c);
        return op("gemm", variant, "m" + m + " n" + n + " k" + k, (side, in) -> {
            Tensor left = side.upload(a, in.gaussian(m * k), aShape);
            Tensor right = side.upload(b, in.gaussian(k * n), bShape);
            Tensor out = beta == 0f ? side.output("c", c, m, n) : side.accumulator("c", c, m, n);
            side.tensors().gemm(transposeA, transposeB, ALPHA, left, right, beta, out);
        });
    }

    /**
     * A stack of {@link #GEMM_STACK} products of the GEMM cases' sizes, its three operands in one storage: the
     * activation type is Newton-Schulz's (bf16 x bf16 -> bf16 on the GPU).
     */
    private OpCase batchedGemm(boolean transposeA, boolean transposeB, float beta, Storage s) {
        int m = scale.gemmM();
        int n = scale.gemmN();
        int k = scale.gemmK();
        int[] aShape = transposeA ? new int[] {GEMM_STACK, k, m} : new int[] {GEMM_STACK, m, k};
        int[] bShape = transposeB ? new int[] {GEMM_STACK, n, k} : new int[] {GEMM_STACK, k, n};
        String variant = (transposeA ? "T" : "N") + (transposeB ? "T" : "N") + " beta" + (int) beta + " " + label(s);
        return op("batchedGemm", variant, GEMM_STACK + " x m" + m + " n" + n + " k" + k, (side, in) -> {
            Tensor left = side.upload(s, in.gaussian(GEMM_STACK * m * k), aShape);
            Tensor right = side.upload(s, in.gaussian(GEMM_STACK * k * n), bShape);
            Tensor out = beta == 0f ? side.output("c", s, GEMM_STACK, m, n)
                    : side.accumulator("c", s, GEMM_STACK, m, n);
            side.tensors().batchedGemm(transposeA, transposeB, ALPHA, left, right, beta, out);
        });
    }

    private OpCase axpby(Storage s) {
        return op("axpby", label(s), dims(rows, width), (side, in) -> {
            Tensor x = side.upload(s, in.gaussian(rows * width), rows, width);
            Tensor y = side.result("y", side.upload(s, in.gaussian(rows * width), rows, width));
            side.tensors().axpby(ALPHA, x, AXPBY_BETA, y);
        });
    }

    private OpCase add(Storage s) {
        return op("add", label(s), dims(rows, width), (side, in) -> {
            Tensor a = side.upload(s, in.gaussian(rows * width), rows, width);
            Tensor b = side.upload(s, in.gaussian(rows * width), rows, width);
            side.tensors().add(a, b, side.output("out", s, rows, width));
        });
    }

    /** add with its output aliasing a (or b), which the contract allows. */
    private OpCase addInPlace(boolean intoA) {
        return op("add", intoA ? "act out=a" : "act out=b", dims(rows, width), (side, in) -> {
            Tensor a = side.activation(in.gaussian(rows * width), rows, width);
            Tensor b = side.activation(in.gaussian(rows * width), rows, width);
            Tensor out = side.result("out", intoA ? a : b);
            side.tensors().add(a, b, out);
        });
    }

    private OpCase scale(Storage s) {
        return op("scale", label(s), dims(rows, width), (side, in) -> {
            Tensor t = side.result("t", side.upload(s, in.gaussian(rows * width), rows, width));
            side.tensors().scale(t, SCALE);
        });
    }

    private OpCase transpose(Storage s) {
        return op("transpose", label(s), dims(rows, width) + "->" + dims(width, rows), (side, in) -> {
            Tensor src = side.upload(s, in.gaussian(rows * width), rows, width);
            side.tensors().transpose(src, side.output("dst", s, width, rows));
        });
    }

    private OpCase roundToBfloat16(Storage s) {
        return op("roundToBfloat16", label(s), dims(rows, width), (side, in) -> {
            Tensor t = side.result("t", side.upload(s, in.gaussian(rows * width), rows, width));
            side.tensors().roundToBfloat16(t);
        });
    }

    private OpCase sumOfSquares(Storage s) {
        return op("sumOfSquares", label(s), dims(rows, width), (side, in) -> {
            Tensor t = side.upload(s, in.gaussian(rows * width), rows, width);
            side.scalar("sum", side.tensors().sumOfSquares(t));
        });
    }
}
