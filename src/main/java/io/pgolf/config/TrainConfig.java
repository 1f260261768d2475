package io.pgolf.config;

import java.util.Optional;

/** The training run and its schedule: {@code pgolf.train}. */
public record TrainConfig(int seed, Optional<String> runId, int iterations, double warmdownFrac, int warmupSteps,
                          int trainBatchTokens, int trainSeqLen, int trainLogEvery, double maxWallclockSeconds) {

    static TrainConfig read(KnobReader r) {
        return new TrainConfig(r.integer("train.seed"), r.optionalText("train.run-id"), r.integer("train.iterations"),
                r.real("train.warmdown-frac"), r.integer("train.warmup-steps"), r.integer("train.train-batch-tokens"),
                r.integer("train.train-seq-len"), r.integer("train.train-log-every"),
                r.real("train.max-wallclock-seconds"));
    }
}
