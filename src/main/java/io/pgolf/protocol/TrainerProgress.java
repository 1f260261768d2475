package io.pgolf.protocol;

/**
 * What a Trainer reports after each optimizer step. {@code warmup} steps only warm kernels: their weights, optimizer
 * state and loader position are reset afterwards, and they do not count toward the time budget.
 *
 * @param step           optimizer steps done in this phase (1 after the first)
 * @param trainLoss      mean cross-entropy (nats per token) over the step's micro-batches on this rank
 * @param tokensPerSecond training tokens per second of this rank over the step
 * @param lrMultiplier   the schedule's multiplier applied in this step
 * @param muonMomentum   Muon's momentum in this step (warmed up over the first steps)
 * @param looping        whether the depth loop was on
 * @param trainSeconds   training time so far (warm-up and validation excluded)
 */
public record TrainerProgress(int rank, boolean warmup, long step, double trainLoss, double tokensPerSecond,
                              double lrMultiplier, double muonMomentum, boolean looping, double trainSeconds,
                              long tokensSeen) implements TrainerEvent {
    public TrainerProgress {
        if (step < 1 || tokensSeen < 0 || trainSeconds < 0) {
            throw new IllegalArgumentException("step must be >= 1, tokens and seconds >= 0: step " + step
                    + ", tokens " + tokensSeen + ", seconds " + trainSeconds);
        }
    }
}
