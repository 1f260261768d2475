package io.pgolf.config;

/** Muon, AdamW and EMA settings: {@code pgolf.optimizer}. */
public record OptimizerConfig(double minLr, double embedLr, double headLr, double tiedEmbedLr, double tiedEmbedInitStd,
                              double matrixLr, double scalarLr, double muonMomentum, int muonBackendSteps,
                              double muonMomentumWarmupStart, int muonMomentumWarmupSteps, boolean muonRowNormalize,
                              double beta1, double beta2, double adamEps, double gradClipNorm, double muonBeta2,
                              double adamWd, double muonWd, double embedWd, double emaDecay) {

    static OptimizerConfig read(KnobReader r) {
        return new OptimizerConfig(r.real("optimizer.min-lr"), r.real("optimizer.embed-lr"),
                r.real("optimizer.head-lr"), r.real("optimizer.tied-embed-lr"),
                r.real("optimizer.tied-embed-init-std"), r.real("optimizer.matrix-lr"), r.real("optimizer.scalar-lr"),
                r.real("optimizer.muon-momentum"), r.integer("optimizer.muon-backend-steps"),
                r.real("optimizer.muon-momentum-warmup-start"), r.integer("optimizer.muon-momentum-warmup-steps"),
                r.flag("optimizer.muon-row-normalize"), r.real("optimizer.beta1"), r.real("optimizer.beta2"),
                r.real("optimizer.adam-eps"), r.real("optimizer.grad-clip-norm"), r.real("optimizer.muon-beta2"),
                r.real("optimizer.adam-wd"), r.real("optimizer.muon-wd"), r.real("optimizer.embed-wd"),
                r.real("optimizer.ema-decay"));
    }
}
