package io.pgolf.model.train;

import java.util.List;

/**
 * The Trainer's training time. It is read once, at the end of each training step; that reading is the step's
 * {@code trainSeconds}, decides whether the time budget is spent, and places the next step on the wall-clock schedule
 * (lr warmdown, depth-loop switch). Validation time is not training time.
 *
 * <p>A run reads the wall clock ({@link #wall()}). The readings are the only input of training that is not in its
 * messages, so a replay feeds back the ones its journal recorded ({@link #replaying}) and a wall-clock-scheduled run
 * replays step for step.
 */
public interface TrainingClock {
    /** Training starts (after the warm-up): time counts from here. */
    void start();

    /** A validation starts: its time does not count. */
    void pause();

    /** The validation is over: time counts again. */
    void resume();

    /** Seconds of training so far, read at the end of a step. */
    double stepEnded();

    /** The wall clock: training time since {@link #start()}, validations excluded. */
    static TrainingClock wall() {
        return new TrainingClock() {
            private long countedNanos;
            private long stretchStart;

            @Override
            public void start() {
                countedNanos = 0;
                stretchStart = System.nanoTime();
            }

            @Override
            public void pause() {
                countedNanos += System.nanoTime() - stretchStart;
            }

            @Override
            public void resume() {
                stretchStart = System.nanoTime();
            }

            @Override
            public double stepEnded() {
                return (countedNanos + System.nanoTime() - stretchStart) / 1e9;
            }
        };
    }

    /** The readings a run recorded, one per training step, in order; a step beyond them is an error. */
    static TrainingClock replaying(List<Double> readings) {
        List<Double> recorded = List.copyOf(readings);
        // The recorded readings already count from the start and leave out the validations.
        return new TrainingClock() {
            private int next;

            @Override
            public void start() {
            }

            @Override
            public void pause() {
            }

            @Override
            public void resume() {
            }

            @Override
            public double stepEnded() {
                if (next == recorded.size()) {
                    throw new IllegalStateException("the recording holds the clock readings of " + recorded.size()
                            + " training steps; step " + (next + 1) + " has none");
                }
                return recorded.get(next++);
            }
        };
    }
}
