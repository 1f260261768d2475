package io.pgolf.model.optim;

import io.pgolf.config.PgolfConfig;

/**
 * The reference's learning-rate multiplier. Training progress is a fraction: of the wall-clock budget
 * (MAX_WALLCLOCK_SECONDS less GPTQ_RESERVE_SECONDS, kept for quantization) when there is one, otherwise of the
 * ITERATIONS. The multiplier is 1 until 1 - warmdownFrac, then falls linearly towards 0 at fraction 1, never
 * below minLr (a floor on the multiplier, not a learning rate).
 *
 * @param maxWallclockSeconds 0 for a step-based schedule
 */
public record LrSchedule(int iterations, double warmdownFrac, double minLr, double maxWallclockSeconds,
                         double gptqReserveSeconds) {

    public static LrSchedule of(PgolfConfig config) {
        return new LrSchedule(config.train().iterations(), config.train().warmdownFrac(), config.optimizer().minLr(),
                config.train().maxWallclockSeconds(), config.quant().gptqReserveSeconds());
    }

    public boolean wallClockBudgeted() {
        return maxWallclockSeconds > 0;
    }

    /** Seconds of training the budget allows (the wall clock less the GPTQ reserve); only with a budget. */
    public double trainingBudgetSeconds() {
        if (!wallClockBudgeted()) {
            throw new IllegalStateException("a step-based schedule has no time budget");
        }
        return maxWallclockSeconds - gptqReserveSeconds;
    }

    /** Progress at {@code step} (counting from 0) after {@code elapsedSeconds} of training. */
    public double trainingFraction(int step, double elapsedSeconds) {
        if (!wallClockBudgeted()) {
            return (double) step / Math.max(iterations, 1);
        }
        return elapsedSeconds / Math.max(trainingBudgetSeconds(), 1e-12);
    }

    /** The lr multiplier at progress {@code fraction}. */
    public double multiplier(double fraction) {
        if (warmdownFrac <= 0) {
            return 1.0;
        }
        if (fraction >= 1.0 - warmdownFrac) {
            return Math.max((1.0 - fraction) / warmdownFrac, minLr);
        }
        return 1.0;
    }

    /** Whether training should stop after the step that ended at {@code elapsedSeconds}. */
    public boolean budgetSpent(double elapsedSeconds) {
        return wallClockBudgeted() && elapsedSeconds >= trainingBudgetSeconds();
    }
}
