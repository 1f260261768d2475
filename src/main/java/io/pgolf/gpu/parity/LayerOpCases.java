package io.pgolf.gpu.parity;

import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.RopeTable;
import io.pgolf.gpu.Tensor;

import java.util.List;

import static io.pgolf.gpu.parity.Storage.ACTIVATION;
import static io.pgolf.gpu.parity.Storage.FLOAT32;
import static io.pgolf.gpu.parity.Storage.GRADIENT;
import static io.pgolf.gpu.parity.TensorOpCases.dims;

/**
 * Every {@link io.pgolf.gpu.LayerOps} operation as parity cases, forward and backward, with the model's storage:
 * activations as the backend stores them, parameters, statistics and gradients in float32. A backward reads the
 * saved values (inverse rms, attention output, log-sum-exp and XSA projections) of the reference's forward, so that it is checked on
 * the same inputs on both sides whatever the candidate's forward did. Includes the aliasing the contract allows:
 * residualMixBackward with x = x0 and dX = dX0 (the first block), scaledResidual with out = x, and their fusions with
 * rms_norm likewise; the fused backwards also without the residual's own gradient (null: the norm's alone) and, for
 * the scaled residual, with dOut replaced by the total instead of dX.
 */
final class LayerOpCases {
    private static final float NORM_SCALE = 0.7f;
    /** Far above the model's epsilon (2^-23), so that a misplaced or ignored epsilon shows. */
    private static final float NORM_EPS = 0.25f;
    private static final float LEAKY_SLOPE = 0.5f;
    /** The record's LOGIT_SOFTCAP, with logits spread wide enough that tanh bends them. */
    private static final float SOFTCAP = 30f;
    private static final double LOGIT_STD = 15;
    private static final float LOSS_GRAD_SCALE = 0.37f;
    /** Queries larger than keys, as the q gain makes them: softmax rows between flat and peaked. */
    private static final double QUERY_STD = 2;

    /**
     * The MLP operations' variant whose shared dimension is no multiple of 8: the GPU's fused products take only
     * multiples (16-byte row copies), so this runs its composed path (cuBLAS and the activation kernels).
     */
    private static final String UNFUSED_MLP = "d not a multiple of 8";

    private final ParityScale scale;
    private final int rows;
    private final int width;

    private LayerOpCases(ParityScale scale) {
        this.scale = scale;
        this.rows = scale.rows();
        this.width = scale.width();
    }

    static List<OpCase> of(ParityScale scale) {
        LayerOpCases c = new LayerOpCases(scale);
        return List.of(c.embedding(), c.embeddingBackward(), c.rmsNorm(), c.rmsNormBackward(), c.residualMix(),
                c.residualMixBackward(), c.residualMixBackwardFirstBlock(), c.scaledResidual(false),
                c.scaledResidual(true), c.scaledResidualBackward(true), c.scaledResidualBackward(false),
                c.residualMixRmsNorm(), c.residualMixRmsNormBackward(true, false),
                c.residualMixRmsNormBackward(false, false), c.residualMixRmsNormBackward(true, true),
                c.scaledResidualRmsNorm(false), c.scaledResidualRmsNorm(true),
                c.scaledResidualRmsNormBackward(true, true), c.scaledResidualRmsNormBackward(false, true),
                c.scaledResidualRmsNormBackward(true, false), c.skipGate(),
                c.skipGateBackward(),
                c.qkvNormRope(), c.qkvNormRopeBackward(),
                c.attention(false), c.attention(true), c.attentionBackward(false), c.attentionBackward(true),
                c.leakyReluSquared(), c.leakyReluSquaredBackward(), c.mlpHidden(c.width, ""),
                c.mlpHidden(c.width + 1, UNFUSED_MLP), c.mlpHiddenBackward(c.width, ""),
                c.mlpHiddenBackward(c.width + 1, UNFUSED_MLP), c.softcap(), c.softcapCrossEntropy(false),
                c.softcapCrossEntropy(true), c.softcapCrossEntropyInPlace());
    }

    private OpCase op(String op, String variant, String shape, OpCase.Body body) {
        return new OpCase(scale.name(), op, variant, shape, body);
    }

    private String rowsShape() {
        return dims(rows, width);
    }

    private OpCase embedding() {
        int vocab = scale.vocab();
        return op("embedding", "", dims(rows) + " of " + dims(vocab, width), (side, in) -> {
            Tensor ids = side.ints(in.ints(rows, vocab), rows);
            Tensor weight = side.float32(in.gaussian(vocab * width), vocab, width);
            side.layers().embedding(ids, weight, side.output("out", ACTIVATION, rows, width));
        });
    }

    /** Ids from an eighth of the vocabulary, so that tokens repeat and their rows must collect every addition. */
    private OpCase embeddingBackward() {
        int vocab = scale.vocab();
        return op("embeddingBackward", "", dims(rows) + " of " + dims(vocab, width), (side, in) -> {
            Tensor ids = side.ints(in.ints(rows, Math.max(1, vocab / 8)), rows);
            Tensor dOut = side.upload(GRADIENT, in.gaussian(rows * width), rows, width);
            side.layers().embeddingBackward(ids, dOut, side.accumulator("dWeight", FLOAT32, vocab, width));
        });
    }

    private OpCase rmsNorm() {
        return op("rmsNorm", "", rowsShape(), (side, in) -> {
            Tensor x = side.activation(in.gaussian(rows * width), rows, width);
            side.layers().rmsNorm(x, NORM_SCALE, NORM_EPS, side.output("out", ACTIVATION, rows, width),
                    side.output("invRms", FLOAT32, rows));
        });
    }

    private OpCase rmsNormBackward() {
        return op("rmsNormBackward", "", rowsShape(), (side, in) -> {
            float[] x = in.gaussian(rows * width);
            float[] dOut = in.gaussian(rows * width);
            float[] invRms = in.fromReference("invRms", ref -> {
                Tensor inv = ref.zeros(FLOAT32, rows);
                ref.layers().rmsNorm(ref.activation(x, rows, width), NORM_SCALE, NORM_EPS,
                        ref.zeros(ACTIVATION, rows, width), inv);
                return ref.download(inv);
            });
            side.layers().rmsNormBackward(side.activation(x, rows, width), side.float32(invRms, rows), NORM_SCALE,
                    side.upload(GRADIENT, dOut, rows, width), side.accumulator("dX", GRADIENT, rows, width));
        });
    }

    private OpCase residualMix() {
        return op("residualMix", "", rowsShape(), (side, in) -> {
            Tensor x = side.activation(in.gaussian(rows * width), rows, width);
            Tensor x0 = side.activation(in.gaussian(rows * width), rows, width);
            Tensor mix = side.float32(in.gaussian(2 * width), 2, width);
            side.layers().residualMix(x, x0, mix, side.output("out", ACTIVATION, rows, width));
        });
    }

    private OpCase residualMixBackward() {
        return op("residualMixBackward", "", rowsShape(), (side, in) -> {
            Tensor x = side.activation(in.gaussian(rows * width), rows, width);
            Tensor x0 = side.activation(in.gaussian(rows * width), rows, width);
            Tensor mix = side.float32(in.gaussian(2 * width), 2, width);
            Tensor dOut = side.upload(GRADIENT, in.gaussian(rows * width), rows, width);
            side.layers().residualMixBackward(x, x0, mix, dOut, side.accumulator("dX", GRADIENT, rows, width),
                    side.accumulator("dX0", GRADIENT, rows, width), side.accumulator("dMix", FLOAT32, 2, width));
        });
    }

    /** The first block, where x is x0: one input, one gradient receiving both additions. */
    private OpCase residualMixBackwardFirstBlock() {
        return op("residualMixBackward", "x=x0 dX=dX0", rowsShape(), (side, in) -> {
            Tensor x = side.activation(in.gaussian(rows * width), rows, width);
            Tensor mix = side.float32(in.gaussian(2 * width), 2, width);
            Tensor dOut = side.upload(GRADIENT, in.gaussian(rows * width), rows, width);
            Tensor dX = side.accumulator("dX", GRADIENT, rows, width);
            side.layers().residualMixBackward(x, x, mix, dOut, dX, dX, side.accumulator("dMix", FLOAT32, 2, width));
        });
    }

    private OpCase scaledResidual(boolean inPlace) {
        return op("scaledResidual", inPlace ? "out=x" : "", rowsShape(), (side, in) -> {
            Tensor x = side.activation(in.gaussian(rows * width), rows, width);
            Tensor s = side.float32(in.gaussian(width), width);
            Tensor y = side.activation(in.gaussian(rows * width), rows, width);
            Tensor out = inPlace ? side.result("out", x) : side.output("out", ACTIVATION, rows, width);
            side.layers().scaledResidual(x, s, y, out);
        });
    }

    /** With dX, or without it (null) as the graph calls it when dOut becomes x's gradient itself. */
    private OpCase scaledResidualBackward(boolean withDX) {
        return op("scaledResidualBackward", withDX ? "" : "no dX", rowsShape(), (side, in) -> {
            Tensor s = side.float32(in.gaussian(width), width);
            Tensor y = side.activation(in.gaussian(rows * width), rows, width);
            Tensor dOut = side.upload(GRADIENT, in.gaussian(rows * width), rows, width);
            side.layers().scaledResidualBackward(s, y, dOut,
                    withDX ? side.accumulator("dX", GRADIENT, rows, width) : null,
                    side.accumulator("dY", GRADIENT, rows, width), side.accumulator("dScale", FLOAT32, width));
        });
    }

    private OpCase residualMixRmsNorm() {
        return op("residualMixRmsNorm", "", rowsShape(), (side, in) -> {
            Tensor x = side.activation(in.gaussian(rows * width), rows, width);
            Tensor x0 = side.activation(in.gaussian(rows * width), rows, width);
            Tensor mix = side.float32(in.gaussian(2 * width), 2, width);
            side.layers().residualMixRmsNorm(x, x0, mix, NORM_SCALE, NORM_EPS,
                    side.output("mixed", ACTIVATION, rows, width), side.output("normed", ACTIVATION, rows, width),
                    side.output("invRms", FLOAT32, rows));
        });
    }

    /**
     * With or without a gradient of the mixed value from its other readers, and for the first block (x = x0,
     * dX = dX0). invRms is the reference's, of the mixed value it computes.
     */
    private OpCase residualMixRmsNormBackward(boolean withDMixed, boolean firstBlock) {
        String variant = (withDMixed ? "" : "no dMixed") + (firstBlock ? "x=x0 dX=dX0" : "");
        return op("residualMixRmsNormBackward", variant, rowsShape(), (side, in) -> {
            float[] x = in.gaussian(rows * width);
            float[] x0 = firstBlock ? x : in.gaussian(rows * width);
            float[] mix = in.gaussian(2 * width);
            float[] dMixed = in.gaussian(rows * width);
            float[] dNormed = in.gaussian(rows * width);
            float[] invRms = in.fromReference("invRms", ref -> {
                Tensor inv = ref.zeros(FLOAT32, rows);
                ref.layers().residualMixRmsNorm(ref.activation(x, rows, width), ref.activation(x0, rows, width),
                        ref.float32(mix, 2, width), NORM_SCALE, NORM_EPS, ref.zeros(ACTIVATION, rows, width),
                        ref.zeros(ACTIVATION, rows, width), inv);
                return ref.download(inv);
            });
            Tensor xs = side.activation(x, rows, width);
            Tensor x0s = firstBlock ? xs : side.activation(x0, rows, width);
            Tensor dX = side.accumulator("dX", GRADIENT, rows, width);
            Tensor dX0 = firstBlock ? dX : side.accumulator("dX0", GRADIENT, rows, width);
            side.layers().residualMixRmsNormBackward(xs, x0s, side.float32(mix, 2, width),
                    side.float32(invRms, rows), NORM_SCALE, withDMixed ? side.upload(GRADIENT, dMixed, rows, width)
                            : null, side.upload(GRADIENT, dNormed, rows, width), dX, dX0,
                    side.accumulator("dMix", FLOAT32, 2, width));
        });
    }

    private OpCase scaledResidualRmsNorm(boolean inPlace) {
        return op("scaledResidualRmsNorm", inPlace ? "out=x" : "", rowsShape(), (side, in) -> {
            Tensor x = side.activation(in.gaussian(rows * width), rows, width);
            Tensor s = side.float32(in.gaussian(width), width);
            Tensor y = side.activation(in.gaussian(rows * width), rows, width);
            Tensor out = inPlace ? side.result("out", x) : side.output("out", ACTIVATION, rows, width);
            side.layers().scaledResidualRmsNorm(x, s, y, NORM_SCALE, NORM_EPS, out,
                    side.output("normed", ACTIVATION, rows, width), side.output("invRms", FLOAT32, rows));
        });
    }

    /**
     * With dX, or without it (dOut then replaced by the total gradient, as the graph passes it on to x); with a
     * gradient of out from its other readers, or without one (null). out is any activation, invRms the reference's
     * norm of it.
     */
    private OpCase scaledResidualRmsNormBackward(boolean withDX, boolean withDOut) {
        String variant = (withDX ? "" : "no dX (dOut replaced)") + (withDOut ? "" : "no dOut");
        return op("scaledResidualRmsNormBackward", variant, rowsShape(), (side, in) -> {
            float[] out = in.gaussian(rows * width);
            float[] invRms = in.fromReference("invRms", ref -> {
                Tensor inv = ref.zeros(FLOAT32, rows);
                ref.layers().rmsNorm(ref.activation(out, rows, width), NORM_SCALE, NORM_EPS,
                        ref.zeros(ACTIVATION, rows, width), inv);
                return ref.download(inv);
            });
            Tensor s = side.float32(in.gaussian(width), width);
            Tensor y = side.activation(in.gaussian(rows * width), rows, width);
            Tensor dNormed = side.upload(GRADIENT, in.gaussian(rows * width), rows, width);
            Tensor dOut = withDOut ? (withDX ? side.upload(GRADIENT, in.gaussian(rows * width), rows, width)
                    : side.accumulator("dOut", GRADIENT, rows, width)) : null;
            side.layers().scaledResidualRmsNormBackward(s, y, side.activation(out, rows, width),
                    side.float32(invRms, rows), NORM_SCALE, dOut, dNormed,
                    withDX ? side.accumulator("dX", GRADIENT, rows, width) : null,
                    side.accumulator("dY", GRADIENT, rows, width), side.accumulator("dScale", FLOAT32, width));
        });
    }

    private OpCase skipGate() {
        return op("skipGate", "", rowsShape(), (side, in) -> {
            Tensor x = side.activation(in.gaussian(rows * width), rows, width);
            Tensor skip = side.activation(in.gaussian(rows * width), rows, width);
            Tensor weight = side.float32(in.gaussian(width), width);
            Tensor gate = side.float32(in.gaussian(width), width);
            side.layers().skipGate(x, skip, weight, gate, side.output("out", ACTIVATION, rows, width));
        });
    }

    private OpCase skipGateBackward() {
        return op("skipGateBackward", "", rowsShape(), (side, in) -> {
            Tensor x = side.activation(in.gaussian(rows * width), rows, width);
            Tensor skip = side.activation(in.gaussian(rows * width), rows, width);
            Tensor weight = side.float32(in.gaussian(width), width);
            Tensor gate = side.float32(in.gaussian(width), width);
            Tensor dOut = side.upload(GRADIENT, in.gaussian(rows * width), rows, width);
            side.layers().skipGateBackward(x, skip, weight, gate, dOut,
                    side.accumulator("dX", GRADIENT, rows, width), side.accumulator("dSkip", GRADIENT, rows, width),
                    side.accumulator("dWeight", FLOAT32, width), side.accumulator("dGate", FLOAT32, width));
        });
    }

    private int qkvWidth() {
        return (scale.heads() + 2 * scale.kvHeads()) * scale.headDim();
    }

    /** Query, key and value heads of one product, on a table of random rotation angles, the queries with gains. */
    private OpCase qkvNormRope() {
        AttentionShape shape = scale.attentionShape();
        int qWidth = scale.heads() * scale.headDim();
        int kvWidth = scale.kvHeads() * scale.headDim();
        return op("qkvNormRope", "", headShape(), (side, in) -> {
            Tensor qkv = side.activation(in.gaussian(rows * qkvWidth()), rows, qkvWidth());
            RopeTable rope = ropeTable(side, in);
            Tensor gain = side.float32(in.uniform(scale.heads(), 1, 5), scale.heads());
            side.layers().qkvNormRope(qkv, shape, rope, gain, NORM_EPS, side.output("q", ACTIVATION, rows, qWidth),
                    side.output("k", ACTIVATION, rows, kvWidth), side.output("v", ACTIVATION, rows, kvWidth),
                    side.output("invRms", FLOAT32, rows * (scale.heads() + scale.kvHeads())));
        });
    }

    private OpCase qkvNormRopeBackward() {
        AttentionShape shape = scale.attentionShape();
        int qWidth = scale.heads() * scale.headDim();
        int kvWidth = scale.kvHeads() * scale.headDim();
        int normed = rows * (scale.heads() + scale.kvHeads());
        return op("qkvNormRopeBackward", "", headShape(), (side, in) -> {
            float[] qkv = in.gaussian(rows * qkvWidth());
            float[][] angles = ropeAngles(in);
            float[] gain = in.uniform(scale.heads(), 1, 5);
            float[] dQ = in.gaussian(rows * qWidth);
            float[] dK = in.gaussian(rows * kvWidth);
            float[] dV = in.gaussian(rows * kvWidth);
            float[] invRms = in.fromReference("invRms", ref -> {
                Tensor inv = ref.zeros(FLOAT32, normed);
                ref.layers().qkvNormRope(ref.activation(qkv, rows, qkvWidth()), shape, ropeTable(ref, angles),
                        ref.float32(gain, scale.heads()), NORM_EPS, ref.zeros(ACTIVATION, rows, qWidth),
                        ref.zeros(ACTIVATION, rows, kvWidth), ref.zeros(ACTIVATION, rows, kvWidth), inv);
                return ref.download(inv);
            });
            side.layers().qkvNormRopeBackward(side.activation(qkv, rows, qkvWidth()), shape,
                    ropeTable(side, angles), side.float32(gain, scale.heads()), side.float32(invRms, normed),
                    side.upload(GRADIENT, dQ, rows, qWidth), side.upload(GRADIENT, dK, rows, kvWidth),
                    side.upload(GRADIENT, dV, rows, kvWidth), side.accumulator("dQkv", GRADIENT, rows, qkvWidth()),
                    side.accumulator("dGain", FLOAT32, scale.heads()));
        });
    }

    private String headShape() {
        return dims(rows) + " x " + scale.heads() + "+" + scale.kvHeads() + "+" + scale.kvHeads() + "h"
                + scale.headDim() + " rope" + scale.ropeDims() + " seq" + scale.seqLen();
    }

    /** cos and sin [seqLen, ropeDims / 2] of uniformly random angles. */
    private float[][] ropeAngles(CaseInputs in) {
        float[] angles = in.uniform(scale.seqLen() * scale.ropeDims() / 2, 0, 2 * Math.PI);
        float[] cos = new float[angles.length];
        float[] sin = new float[angles.length];
        for (int i = 0; i < angles.length; i++) {
            cos[i] = (float) Math.cos(angles[i]);
            sin[i] = (float) Math.sin(angles[i]);
        }
        return new float[][] {cos, sin};
    }

    private RopeTable ropeTable(Side side, CaseInputs in) {
        return ropeTable(side, ropeAngles(in));
    }

    private RopeTable ropeTable(Side side, float[][] cosSin) {
        int half = scale.ropeDims() / 2;
        return new RopeTable(scale.ropeDims(), scale.seqLen(), side.float32(cosSin[0], scale.seqLen(), half),
                side.float32(cosSin[1], scale.seqLen(), half));
    }

    private String attentionShapeLabel() {
        return "b" + scale.batch() + " seq" + scale.seqLen() + " " + scale.heads() + "/" + scale.kvHeads() + "h"
                + scale.headDim();
    }

    /** Plain, or with XSA fused in (its output instead of attention's, and the projections it saves). */
    private OpCase attention(boolean xsa) {
        AttentionShape shape = scale.attentionShape();
        int qWidth = scale.heads() * scale.headDim();
        int kvWidth = scale.kvHeads() * scale.headDim();
        return op("attention", xsa ? "xsa" : "", attentionShapeLabel(), (side, in) -> {
            Tensor q = side.activation(in.gaussian(rows * qWidth, QUERY_STD), rows, qWidth);
            Tensor k = side.activation(in.gaussian(rows * kvWidth), rows, kvWidth);
            Tensor v = side.activation(in.gaussian(rows * kvWidth), rows, kvWidth);
            side.layers().attention(q, k, v, shape, side.output("out", ACTIVATION, rows, qWidth),
                    side.output("logSumExp", FLOAT32, scale.batch(), scale.heads(), scale.seqLen()),
                    xsa ? side.output("xsaProjections", FLOAT32, rows * scale.heads()) : null);
        });
    }

    private OpCase attentionBackward(boolean xsa) {
        AttentionShape shape = scale.attentionShape();
        int qWidth = scale.heads() * scale.headDim();
        int kvWidth = scale.kvHeads() * scale.headDim();
        int[] lseShape = {scale.batch(), scale.heads(), scale.seqLen()};
        int projections = rows * scale.heads();
        return op("attentionBackward", xsa ? "xsa" : "", attentionShapeLabel(), (side, in) -> {
            float[] q = in.gaussian(rows * qWidth, QUERY_STD);
            float[] k = in.gaussian(rows * kvWidth);
            float[] v = in.gaussian(rows * kvWidth);
            float[] dOut = in.gaussian(rows * qWidth);
            float[][] saved = in.fromReference("forward", ref -> {
                Tensor out = ref.zeros(ACTIVATION, rows, qWidth);
                Tensor lse = ref.zeros(FLOAT32, lseShape);
                Tensor xsaProjections = xsa ? ref.zeros(FLOAT32, projections) : null;
                ref.layers().attention(ref.activation(q, rows, qWidth), ref.activation(k, rows, kvWidth),
                        ref.activation(v, rows, kvWidth), shape, out, lse, xsaProjections);
                return new float[][] {ref.download(out), ref.download(lse),
                        xsa ? ref.download(xsaProjections) : new float[0]};
            });
            side.layers().attentionBackward(side.activation(q, rows, qWidth), side.activation(k, rows, kvWidth),
                    side.activation(v, rows, kvWidth), shape, side.activation(saved[0], rows, qWidth),
                    side.float32(saved[1], lseShape), xsa ? side.float32(saved[2], projections) : null,
                    side.upload(GRADIENT, dOut, rows, qWidth), side.accumulator("dQ", GRADIENT, rows, qWidth),
                    side.accumulator("dK", GRADIENT, rows, kvWidth), side.accumulator("dV", GRADIENT, rows, kvWidth));
        });
    }

    private OpCase leakyReluSquared() {
        int hidden = scale.mlpHidden();
        return op("leakyReluSquared", "", dims(rows, hidden), (side, in) -> {
            Tensor x = side.activation(in.gaussian(rows * hidden), rows, hidden);
            side.layers().leakyReluSquared(x, LEAKY_SLOPE, side.output("out", ACTIVATION, rows, hidden));
        });
    }

    private OpCase leakyReluSquaredBackward() {
        int hidden = scale.mlpHidden();
        return op("leakyReluSquaredBackward", "", dims(rows, hidden), (side, in) -> {
            Tensor x = side.activation(in.gaussian(rows * hidden), rows, hidden);
            Tensor dOut = side.upload(GRADIENT, in.gaussian(rows * hidden), rows, hidden);
            side.layers().leakyReluSquaredBackward(x, LEAKY_SLOPE, dOut,
                    side.accumulator("dX", GRADIENT, rows, hidden));
        });
    }

    /** h = x w^T and a = leaky_relu(h)^2 over d dims; the weight scaled by 1 / sqrt(d), as trained ones are. */
    private OpCase mlpHidden(int d, String variant) {
        int hidden = scale.mlpHidden();
        return op("mlpHidden", variant, dims(rows, d) + " x " + dims(hidden, d), (side, in) -> {
            Tensor x = side.activation(in.gaussian(rows * d), rows, d);
            Tensor w = side.activation(in.gaussian(hidden * d, 1 / Math.sqrt(d)), hidden, d);
            side.layers().mlpHidden(x, w, LEAKY_SLOPE, side.output("h", ACTIVATION, rows, hidden),
                    side.output("a", ACTIVATION, rows, hidden));
        });
    }

    private OpCase mlpHiddenBackward(int d, String variant) {
        int hidden = scale.mlpHidden();
        return op("mlpHiddenBackward", variant, dims(rows, d) + " x " + dims(hidden, d), (side, in) -> {
            Tensor dOut = side.upload(GRADIENT, in.gaussian(rows * d), rows, d);
            Tensor vT = side.activation(in.gaussian(hidden * d, 1 / Math.sqrt(d)), hidden, d);
            Tensor h = side.activation(in.gaussian(rows * hidden), rows, hidden);
            side.layers().mlpHiddenBackward(dOut, vT, h, LEAKY_SLOPE, side.output("dH", GRADIENT, rows, hidden));
        });
    }

    private OpCase softcap() {
        int n = scale.lossRows();
        int vocab = scale.vocab();
        return op("softcap", "", dims(n, vocab), (side, in) -> {
            Tensor z = side.activation(in.gaussian(n * vocab, LOGIT_STD), n, vocab);
            side.layers().softcap(z, SOFTCAP, side.output("out", ACTIVATION, n, vocab));
        });
    }

    /** The evaluation's form (losses only, dZ null) or the training's (losses and the logits' gradient). */
    private OpCase softcapCrossEntropy(boolean withGradient) {
        int n = scale.lossRows();
        int vocab = scale.vocab();
        return op("softcapCrossEntropy", withGradient ? "loss+dZ" : "loss", dims(n, vocab), (side, in) -> {
            Tensor z = side.activation(in.gaussian(n * vocab, LOGIT_STD), n, vocab);
            Tensor targets = side.ints(in.ints(n, vocab), n);
            Tensor loss = side.output("loss", FLOAT32, n);
            Tensor dZ = withGradient ? side.accumulator("dZ", GRADIENT, n, vocab) : null;
            side.layers().softcapCrossEntropy(z, targets, SOFTCAP, loss, dZ, withGradient ? LOSS_GRAD_SCALE : 0f);
        });
    }

    /** The logits replaced by their own gradient (dZ = z), as the training graph calls it. */
    private OpCase softcapCrossEntropyInPlace() {
        int n = scale.lossRows();
        int vocab = scale.vocab();
        return op("softcapCrossEntropy", "dZ in z", dims(n, vocab), (side, in) -> {
            Tensor z = side.result("dZ", side.activation(in.gaussian(n * vocab, LOGIT_STD), n, vocab));
            Tensor targets = side.ints(in.ints(n, vocab), n);
            side.layers().softcapCrossEntropy(z, targets, SOFTCAP, side.output("loss", FLOAT32, n), z,
                    LOSS_GRAD_SCALE);
        });
    }
}
