package io.pgolf.gpu;

/**
 * The model's layer operations, each a forward and a backward, fused where a GPU saves memory traffic by it.
 *
 * <p>Conventions. Activations are matrices of N = batch * seqLen rows (row {@code b * seqLen + t} is position t
 * of sequence b). A row of a query/key/value matrix holds its heads one after another ({@code [heads * headDim]}).
 * Forward outputs are overwritten. <b>Backward operations add into their gradient outputs</b> ({@code dX += ...}),
 * so a tensor used twice (the residual x0, a looped layer's weights, a micro-batch's parameters) collects its
 * gradient without copies; the caller zeroes gradients when a new sum starts. Saved statistics (inverse rms,
 * log-sum-exp) are written by the forward for the backward.
 */
public interface LayerOps {
    /** out[n] = weight[ids[n]]. ids: I32 [N]; weight [V, d]; out [N, d]. */
    void embedding(Tensor ids, Tensor weight, Tensor out);

    /** dWeight[ids[n]] += dOut[n]. */
    void embeddingBackward(Tensor ids, Tensor dOut, Tensor dWeight);

    /**
     * Row-wise rms_norm without weight, times a constant: out = x * invRms * scale with
     * invRms = 1 / sqrt(mean(x^2) + eps). x, out [N, d]; invRms F32 [N].
     */
    void rmsNorm(Tensor x, float scale, float eps, Tensor out, Tensor invRms);

    /** dX += d(out)/dx^T dOut, given the forward's x and invRms. */
    void rmsNormBackward(Tensor x, Tensor invRms, float scale, Tensor dOut, Tensor dX);

    /** out = mix[0] * x + mix[1] * x0, mix [2, d] broadcast over rows. */
    void residualMix(Tensor x, Tensor x0, Tensor mix, Tensor out);

    /**
     * dX += mix[0] * dOut; dX0 += mix[1] * dOut; dMix[0] += sum_rows(x * dOut); dMix[1] += sum_rows(x0 * dOut).
     * dX and dX0 may be the same tensor (the first block, where x is x0).
     */
    void residualMixBackward(Tensor x, Tensor x0, Tensor mix, Tensor dOut, Tensor dX, Tensor dX0, Tensor dMix);

    /** out = x + scale * y, scale [d] broadcast over rows (attn_scale, mlp_scale). out may alias x. */
    void scaledResidual(Tensor x, Tensor scale, Tensor y, Tensor out);

    /**
     * dX += dOut; dY += scale * dOut; dScale += sum_rows(y * dOut). dX may be null: the caller passes dOut on as
     * x's gradient itself.
     */
    void scaledResidualBackward(Tensor scale, Tensor y, Tensor dOut, Tensor dX, Tensor dY, Tensor dScale);

    /**
     * {@link #residualMix} and the {@link #rmsNorm} of its result in one pass: mixed = mix[0] * x + mix[1] * x0,
     * normed = mixed * invRms * scale with invRms taken over mixed as stored. x, x0 and mixed have one type (the
     * backward recomputes mixed from x and x0 instead of reading it); normed [N, d]; invRms F32 [N].
     */
    void residualMixRmsNorm(Tensor x, Tensor x0, Tensor mix, float scale, float eps, Tensor mixed, Tensor normed,
                            Tensor invRms);

    /**
     * The backward of {@link #residualMixRmsNorm}: with g = dMixed + d(normed)/d(mixed)^T dNormed (mixed's whole
     * gradient; dMixed null counts as zero, and it is only read), dX += mix[0] * g; dX0 += mix[1] * g;
     * dMix[0] += sum_rows(x * g); dMix[1] += sum_rows(x0 * g). mixed is recomputed from x, x0 and mix and rounded to
     * x's type, as the forward stored it. dX and dX0 may be the same tensor.
     */
    void residualMixRmsNormBackward(Tensor x, Tensor x0, Tensor mix, Tensor invRms, float scale, Tensor dMixed,
                                    Tensor dNormed, Tensor dX, Tensor dX0, Tensor dMix);

    /**
     * {@link #scaledResidual} and the {@link #rmsNorm} of its result in one pass: out = x + residualScale * y,
     * normed = out * invRms * normScale with invRms taken over out as stored. out may alias x.
     */
    void scaledResidualRmsNorm(Tensor x, Tensor residualScale, Tensor y, float normScale, float eps, Tensor out,
                               Tensor normed, Tensor invRms);

    /**
     * The backward of {@link #scaledResidualRmsNorm}, from its out, with g = dOut + d(normed)/d(out)^T dNormed
     * (out's whole gradient; dOut null counts as zero): dX += g; dY += residualScale * g;
     * dResidualScale += sum_rows(y * g). dX may be null when dOut is not: dOut is then replaced by g, which the
     * caller passes on as x's gradient itself.
     */
    void scaledResidualRmsNormBackward(Tensor residualScale, Tensor y, Tensor out, Tensor invRms, float normScale,
                                       Tensor dOut, Tensor dNormed, Tensor dX, Tensor dY, Tensor dResidualScale);

    /**
     * The U-Net skip with a sigmoid gate: s = weight * skip; out = s + sigmoid(gate) * (x - s), i.e.
     * lerp(s, x, sigmoid(gate)); weight, gate [d] broadcast over rows.
     */
    void skipGate(Tensor x, Tensor skip, Tensor weight, Tensor gate, Tensor out);

    void skipGateBackward(Tensor x, Tensor skip, Tensor weight, Tensor gate, Tensor dOut,
                          Tensor dX, Tensor dSkip, Tensor dWeight, Tensor dGate);

    /**
     * Attention's q, k and v from one matrix qkv [N, (heads + 2 kvHeads) * headDim] whose rows hold the query heads,
     * then the key heads, then the value heads (the product of the input with the three weights stacked by rows).
     * Per query and key head: u = rms_norm over the head's dims (no weight), then rotary embedding of its first
     * {@code rope.dims()} dims as the reference's apply_rotary_emb (half = dims / 2; for i &lt; half,
     * r[i] = u[i] cos + u[i + half] sin and r[i + half] = u[i + half] cos - u[i] sin, with cos and sin at row
     * {@code position}, column i of the table; dims past {@code rope.dims()} are not rotated); q = r * gain[head]
     * for a query head, k = r for a key head; v is the value heads as they are. The position of row n is
     * n % seqLen. q [N, heads * headDim]; k, v [N, kvHeads * headDim]; gain [heads]; invRms F32
     * [N * (heads + kvHeads)], entry n * (heads + kvHeads) + h, the key heads after the query heads.
     */
    void qkvNormRope(Tensor qkv, AttentionShape shape, RopeTable rope, Tensor gain, float eps, Tensor q, Tensor k,
                     Tensor v, Tensor invRms);

    /** dQkv += ... of {@link #qkvNormRope}'s q, k and v; dGain [heads] += ... . */
    void qkvNormRopeBackward(Tensor qkv, AttentionShape shape, RopeTable rope, Tensor gain, Tensor invRms, Tensor dQ,
                             Tensor dK, Tensor dV, Tensor dQkv, Tensor dGain);

    /**
     * Causal grouped-query attention: query head h reads kv head h / (heads / kvHeads); softmax over positions
     * 0..t of the same sequence of (q . k) * softmaxScale, in float32. q, out [N, heads * headDim];
     * k, v [N, kvHeads * headDim]; logSumExp F32 [batch, heads, seqLen] (natural log, of the scaled scores).
     *
     * <p>When xsaProjections is not null, out is XSA's (exclusive self-attention) instead of the attention output y:
     * for every query head, out = y - c vHat with c = y . vHat, where vHat is the value vector of the head's kv group
     * at the same row, normalized as F.normalize does: v / max(||v||, 1e-12). c goes to xsaProjections F32
     * [N * heads] (entry n * heads + h), so that the backward can rebuild y = out + c vHat instead of keeping it.
     */
    void attention(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp,
                   Tensor xsaProjections);

    /**
     * dQ += ..., dK += ..., dV += ..., from the forward's inputs, output, logSumExp and xsaProjections (null exactly
     * when the forward's was: plain attention), dOut being the gradient of that output.
     */
    void attentionBackward(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out, Tensor logSumExp,
                           Tensor xsaProjections, Tensor dOut, Tensor dQ, Tensor dK, Tensor dV);

    /** out = leaky_relu(x, slope)^2. */
    void leakyReluSquared(Tensor x, float slope, Tensor out);

    void leakyReluSquaredBackward(Tensor x, float slope, Tensor dOut, Tensor dX);

    /**
     * The MLP's hidden layer as one operation: h = x w^T stored in h's type, then a = leaky_relu(h, slope)^2 of that
     * stored h, as {@link #leakyReluSquared} of it. x [N, d]; w [hidden, d] (the first linear layer's weight in x's
     * type); h, a [N, hidden]. Both outputs are stored.
     */
    void mlpHidden(Tensor x, Tensor w, float slope, Tensor h, Tensor a);

    /**
     * The gradient of {@link #mlpHidden}'s h through a, from the gradient dOut [N, d] of the next linear layer's
     * output out = a v^T: dA = dOut v, rounded to dH's type, then dH = dA * d(leaky_relu(h, slope)^2)/dh as
     * {@link #leakyReluSquaredBackward} computes it. vT [hidden, d] is that layer's weight v [d, hidden] transposed
     * (in dOut's type), h [N, hidden] the forward's. <b>dH [N, hidden] is stored, not added into</b>: it is the
     * operation's own intermediate, which the caller takes on into the first layer's products.
     */
    void mlpHiddenBackward(Tensor dOut, Tensor vT, Tensor h, float slope, Tensor dH);

    /** out = cap * tanh(z / cap): the softcapped logits, for inspection and evaluation. */
    void softcap(Tensor z, float cap, Tensor out);

    /**
     * Cross-entropy of the softcapped logits c = cap * tanh(z / cap) against targets, in float32:
     * loss[n] = logsumexp(c[n]) - c[n][targets[n]] (natural log). When dZ is not null it also adds the gradient
     * of {@code gradScale * sum(loss)} with respect to z into dZ, in the same pass. dZ may be z itself: z is then
     * replaced by the gradient (stored, not added), which spares the logits' largest buffer a twin. z [N, V];
     * targets I32 [N]; loss F32 [N].
     */
    void softcapCrossEntropy(Tensor z, Tensor targets, float cap, Tensor loss, Tensor dZ, float gradScale);
}
