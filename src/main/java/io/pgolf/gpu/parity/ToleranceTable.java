package io.pgolf.gpu.parity;

import io.pgolf.gpu.DType;

import java.util.Map;

import static io.pgolf.gpu.parity.Precision.BF16_ATTENTION_GRADIENTS;
import static io.pgolf.gpu.parity.Precision.BF16_PRODUCTS;
import static io.pgolf.gpu.parity.Precision.BF16_RESULT;
import static io.pgolf.gpu.parity.Precision.EXACT;
import static io.pgolf.gpu.parity.Precision.FLOAT32;
import static java.util.Map.entry;

/**
 * The tolerance of every result of every operation ({@code op.result}, op being the {@link io.pgolf.gpu.Backend}
 * method), as it applies when the candidate stores some of the operation's tensors in bfloat16; FLOAT32 here means
 * float32 arithmetic. Two rules adjust it to the run: a run in which the candidate stored nothing in bfloat16 (an
 * all-float32 GEMM, an optimizer update, a float32 candidate) is held to {@link Precision#FLOAT32}, and a float32
 * computation whose result the candidate stores in bfloat16 (the gradient of an activation) to
 * {@link Precision#BF16_RESULT}; exact results stay exact. The README's "GPU parity" table is this one.
 */
public final class ToleranceTable {
    private static final Map<String, Precision> WITH_BFLOAT16 = Map.ofEntries(
            entry("upload.values", EXACT),
            entry("uploadInts.values", EXACT),
            entry("zeros.values", EXACT),
            entry("empty.t", EXACT),
            entry("copy.dst", EXACT),
            entry("copyRows.dst", EXACT),
            entry("addRows.dst", FLOAT32),
            entry("fill.t", EXACT),
            entry("gemm.c", BF16_PRODUCTS),
            entry("batchedGemm.c", BF16_PRODUCTS),
            entry("axpby.y", BF16_RESULT),
            entry("add.out", BF16_RESULT),
            entry("scale.t", BF16_RESULT),
            entry("transpose.dst", EXACT),
            entry("roundToBfloat16.t", EXACT),
            entry("sumOfSquares.sum", FLOAT32),
            entry("embedding.out", EXACT),
            entry("embeddingBackward.dWeight", FLOAT32),
            entry("rmsNorm.out", BF16_RESULT),
            entry("rmsNorm.invRms", FLOAT32),
            entry("rmsNormBackward.dX", FLOAT32),
            entry("residualMix.out", BF16_RESULT),
            entry("residualMixBackward.dX", FLOAT32),
            entry("residualMixBackward.dX0", FLOAT32),
            entry("residualMixBackward.dMix", FLOAT32),
            entry("scaledResidual.out", BF16_RESULT),
            entry("scaledResidualBackward.dX", FLOAT32),
            entry("scaledResidualBackward.dY", FLOAT32),
            entry("scaledResidualBackward.dScale", FLOAT32),
            // The fused norms are taken over the residual value as stored (bfloat16), the reference's over its
            // float32 value; the mix's backward recomputes that stored value, the scaled residual's reads it.
            entry("residualMixRmsNorm.mixed", BF16_RESULT),
            entry("residualMixRmsNorm.normed", BF16_RESULT),
            entry("residualMixRmsNorm.invRms", BF16_RESULT),
            entry("residualMixRmsNormBackward.dX", BF16_RESULT),
            entry("residualMixRmsNormBackward.dX0", BF16_RESULT),
            entry("residualMixRmsNormBackward.dMix", BF16_RESULT),
            entry("scaledResidualRmsNorm.out", BF16_RESULT),
            entry("scaledResidualRmsNorm.normed", BF16_RESULT),
            entry("scaledResidualRmsNorm.invRms", BF16_RESULT),
            entry("scaledResidualRmsNormBackward.dOut", FLOAT32),
            entry("scaledResidualRmsNormBackward.dX", FLOAT32),
            entry("scaledResidualRmsNormBackward.dY", FLOAT32),
            entry("scaledResidualRmsNormBackward.dScale", FLOAT32),
            entry("skipGate.out", BF16_RESULT),
            entry("skipGateBackward.dX", FLOAT32),
            entry("skipGateBackward.dSkip", FLOAT32),
            entry("skipGateBackward.dWeight", FLOAT32),
            entry("skipGateBackward.dGate", FLOAT32),
            entry("qkvNormRope.q", BF16_RESULT),
            entry("qkvNormRope.k", BF16_RESULT),
            entry("qkvNormRope.v", EXACT),
            entry("qkvNormRope.invRms", FLOAT32),
            entry("qkvNormRopeBackward.dQkv", FLOAT32),
            entry("qkvNormRopeBackward.dGain", FLOAT32),
            entry("attention.out", BF16_PRODUCTS),
            entry("attention.logSumExp", FLOAT32),
            entry("attention.xsaProjections", BF16_PRODUCTS),
            entry("attentionBackward.dQ", BF16_ATTENTION_GRADIENTS),
            entry("attentionBackward.dK", BF16_ATTENTION_GRADIENTS),
            entry("attentionBackward.dV", BF16_ATTENTION_GRADIENTS),
            entry("leakyReluSquared.out", BF16_RESULT),
            entry("leakyReluSquaredBackward.dX", FLOAT32),
            // Products of bf16 operands; a is taken of h as stored (bf16), and dH of the product rounded to bf16.
            entry("mlpHidden.h", BF16_PRODUCTS),
            entry("mlpHidden.a", BF16_PRODUCTS),
            entry("mlpHiddenBackward.dH", BF16_PRODUCTS),
            entry("softcap.out", BF16_RESULT),
            entry("softcapCrossEntropy.loss", FLOAT32),
            entry("softcapCrossEntropy.dZ", FLOAT32),
            entry("globalNorm.norm", FLOAT32),
            entry("clipToNorm.t", FLOAT32),
            entry("adamw.param", FLOAT32),
            entry("adamw.expAvg", FLOAT32),
            entry("adamw.expAvgSq", FLOAT32),
            entry("movingAverage.averages", FLOAT32),
            entry("nesterovMomentum.buf", FLOAT32),
            entry("nesterovMomentum.update", FLOAT32),
            entry("normalizeBfloat16.dst", BF16_RESULT),
            entry("roundedScaleAdd.out", BF16_RESULT),
            entry("applyRoundedUpdate.param", FLOAT32),
            entry("sgdMomentum.param", FLOAT32),
            entry("sgdMomentum.buf", FLOAT32));

    private ToleranceTable() {
    }

    /**
     * The table's entry for result {@code result} of {@code op}, before the run's rules. The results of an operation
     * over a list of tensors are named with their index, {@code param[2]}; the entry is the name's.
     */
    public static Precision listed(String op, String result) {
        int index = result.indexOf('[');
        String name = index < 0 ? result : result.substring(0, index);
        Precision precision = WITH_BFLOAT16.get(op + "." + name);
        if (precision == null) {
            throw new IllegalArgumentException("the tolerance table has no entry for " + op + "." + result);
        }
        return precision;
    }

    /**
     * The precision a result is held to, given whether the candidate stored any of the run's tensors in bfloat16
     * and the type it stored this result in.
     *
     * @throws IllegalArgumentException for a result the table does not list (every case's results must be in it)
     */
    public static Precision of(String op, String result, boolean candidateStoredBfloat16, DType resultType) {
        Precision precision = listed(op, result);
        if (precision == EXACT) {
            return EXACT;
        }
        if (!candidateStoredBfloat16) {
            return FLOAT32;
        }
        return precision == FLOAT32 && resultType == DType.BF16 ? BF16_RESULT : precision;
    }
}
