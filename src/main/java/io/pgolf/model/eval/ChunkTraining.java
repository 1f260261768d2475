package io.pgolf.model.eval;

import java.util.List;

/**
 * What training on one TTT chunk did: its learning rate and, for each optimizer step in order, the mean loss (nats)
 * and the gradient norm of the trained parameters before clipping.
 */
public record ChunkTraining(int chunk, double learningRate, List<Double> losses, List<Double> gradNormsBeforeClip) {
    public ChunkTraining {
        losses = List.copyOf(losses);
        gradNormsBeforeClip = List.copyOf(gradNormsBeforeClip);
        if (losses.size() != gradNormsBeforeClip.size()) {
            throw new IllegalArgumentException(losses.size() + " losses but " + gradNormsBeforeClip.size()
                    + " gradient norms");
        }
    }

    public int optimizerSteps() {
        return losses.size();
    }

    /** The mean of the steps' losses; NaN when no step was taken. */
    public double meanLoss() {
        return losses.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
