package io.pgolf.model.train;

import io.pgolf.config.PgolfConfig;
import io.pgolf.model.optim.LrSchedule;
import io.pgolf.model.optim.MomentumWarmup;

import java.nio.file.Path;
import java.util.Map;

/**
 * The knobs that schedule one Trainer, taken from the configuration.
 *
 * @param loopEnabled    NUM_LOOPS > 0: the warm-up repeats with the depth loop on, and training switches it on
 *                       at ENABLE_LOOPING_AT
 * @param valLossEvery   validate every this many steps (and at step 0); 0 = only after the last step
 * @param tokensPerStep  training tokens this rank consumes per optimizer step (for tokens/s)
 * @param prefetch       micro-batches demanded ahead of the one being computed
 * @param weightsMetadata written into the weights file beside the tensors (the configuration that made them)
 */
public record TrainerSettings(int rank, int warmupSteps, boolean loopEnabled, int iterations,
                              int valLossEvery, double emaDecay, double enableLoopingAt, LrSchedule schedule,
                              MomentumWarmup momentum, long tokensPerStep, int prefetch, Path weightsFile,
                              Map<String, String> weightsMetadata) {
    public TrainerSettings {
        if (warmupSteps < 0 || iterations < 0 || valLossEvery < 0 || prefetch < 1 || tokensPerStep < 1) {
            throw new IllegalArgumentException("invalid trainer settings: " + warmupSteps + " warm-up steps, "
                    + iterations + " iterations, validation every " + valLossEvery + ", prefetch " + prefetch
                    + ", tokens per step " + tokensPerStep);
        }
        weightsMetadata = Map.copyOf(weightsMetadata);
    }

    public static TrainerSettings of(PgolfConfig config, int microBatchesPerStep, Path weightsFile,
                                     Map<String, String> weightsMetadata) {
        long tokensPerStep = (long) config.trainSequencesPerMicroStep() * config.train().trainSeqLen()
                * microBatchesPerStep;
        boolean loop = config.model().numLoops() > 0;
        return new TrainerSettings(config.distributed().rank(), config.train().warmupSteps(), loop,
                config.train().iterations(), config.eval().valLossEvery(), config.optimizer().emaDecay(),
                config.model().enableLoopingAt(), LrSchedule.of(config), MomentumWarmup.of(config.optimizer()),
                tokensPerStep, 2 * microBatchesPerStep, weightsFile, weightsMetadata);
    }
}
