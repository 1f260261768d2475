package io.pgolf.model.optim;

import io.pgolf.config.OptimizerConfig;
import io.pgolf.gpu.Backend;
import io.pgolf.model.Parameter;
import io.pgolf.model.ParameterSet;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * All of a model's optimizers, as the reference's {@code Optimizers} plus the part of its {@code step_fn} after
 * the backward passes: Muon momentum from the warm-up, global gradient clipping, one step of every group, and
 * zeroed gradients.
 */
public final class ModelOptimizer implements AutoCloseable {
    private final ParameterSet params;
    private final GradientClipping clipping;
    private final double gradClipNorm;
    private final MomentumWarmup momentumWarmup;
    private final AdamW tokenEmbedding;
    private final Optional<AdamW> head;
    private final Muon muon;
    private final AdamW control;

    /**
     * @param tieEmbeddings whether the output head is the token embedding (then there is no {@code lm_head.weight}
     *                      and the embedding learns at TIED_EMBED_LR)
     * @throws IllegalArgumentException naming a parameter that fits no group, or a head that contradicts
     *                                  {@code tieEmbeddings}
     */
    public ModelOptimizer(ParameterSet params, OptimizerConfig config, boolean tieEmbeddings) {
        this.params = params;
        this.clipping = new GradientClipping(params);
        this.gradClipNorm = config.gradClipNorm();
        this.momentumWarmup = MomentumWarmup.of(config);
        Map<ParameterGroup, List<Parameter>> groups = new EnumMap<>(ParameterGroup.class);
        for (ParameterGroup g : ParameterGroup.values()) {
            groups.put(g, new ArrayList<>());
        }
        for (Parameter p : params) {
            groups.get(ParameterGroup.of(p.name(), p.value().rank())).add(p);
        }
        if (groups.get(ParameterGroup.TOKEN_EMBEDDING).isEmpty()) {
            throw new IllegalArgumentException("the model has no tok_emb.weight");
        }
        boolean hasHead = !groups.get(ParameterGroup.HEAD).isEmpty();
        if (hasHead == tieEmbeddings) {
            throw new IllegalArgumentException(tieEmbeddings
                    ? "embeddings are tied, yet the model has an lm_head.weight"
                    : "embeddings are untied, yet the model has no lm_head.weight");
        }
        Backend backend = params.backend();
        double tokenLr = tieEmbeddings ? config.tiedEmbedLr() : config.embedLr();
        this.tokenEmbedding = new AdamW(backend, groups.get(ParameterGroup.TOKEN_EMBEDDING), tokenLr, config.beta1(),
                config.beta2(), config.adamEps(), config.embedWd());
        this.head = hasHead
                ? Optional.of(new AdamW(backend, groups.get(ParameterGroup.HEAD), config.headLr(), config.beta1(),
                        config.beta2(), config.adamEps(), 0.0))
                : Optional.empty();
        this.muon = new Muon(backend, groups.get(ParameterGroup.MATRIX), config.matrixLr(), config.muonBackendSteps(),
                config.muonWd(), config.muonRowNormalize());
        this.control = new AdamW(backend, groups.get(ParameterGroup.CONTROL), config.scalarLr(), config.beta1(),
                config.beta2(), config.adamEps(), config.adamWd());
    }

    /**
     * Applies the accumulated gradients: Muon momentum for {@code step} (counting from 0, also during warm-up),
     * every learning rate times {@code lrMultiplier}, gradients clipped to GRAD_CLIP_NORM when it is positive.
     * Gradients are zero afterwards. Nothing waits for the device: {@link #gradNorm} fetches the step's norm.
     */
    public void step(int step, double lrMultiplier) {
        if (gradClipNorm > 0) {
            clipping.clip(gradClipNorm);
        } else {
            clipping.measure();
        }
        tokenEmbedding.step(lrMultiplier);
        head.ifPresent(h -> h.step(lrMultiplier));
        muon.step(lrMultiplier, momentumWarmup.at(step));
        control.step(lrMultiplier);
        params.zeroGradients();
    }

    /** The global gradient norm before clipping of the last {@link #step}; waits for the device. */
    public double gradNorm() {
        return clipping.norm();
    }

    /** Back to a fresh optimizer's state (the reference's reload of its initial state after warm-up). */
    public void reset() {
        tokenEmbedding.reset();
        head.ifPresent(AdamW::reset);
        muon.reset();
        control.reset();
    }

    public List<Parameter> muonParams() {
        return muon.params();
    }

    public List<Parameter> controlParams() {
        return control.params();
    }

    @Override
    public void close() {
        tokenEmbedding.close();
        head.ifPresent(AdamW::close);
        muon.close();
        control.close();
        clipping.close();
    }
}
