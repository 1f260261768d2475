package io.pgolf.model.optim;

import io.pgolf.config.OptimizerConfig;

/** Muon's momentum: linear from {@code start} at step 0 to {@code end} at step {@code steps}, then constant. */
public record MomentumWarmup(double start, double end, int steps) {

    public static MomentumWarmup of(OptimizerConfig config) {
        return new MomentumWarmup(config.muonMomentumWarmupStart(), config.muonMomentum(),
                config.muonMomentumWarmupSteps());
    }

    public double at(int step) {
        double fraction = steps > 0 ? Math.min((double) step / steps, 1.0) : 1.0;
        return (1 - fraction) * start + fraction * end;
    }
}
