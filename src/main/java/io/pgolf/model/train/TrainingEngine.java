package io.pgolf.model.train;

import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Tensor;
import io.pgolf.model.Gpt;
import io.pgolf.model.ParameterSet;
import io.pgolf.model.WeightCopies;
import io.pgolf.model.optim.ModelOptimizer;
import io.pgolf.protocol.TrainBatch;

import java.util.Map;

/**
 * The compute of training, apart from any scheduling: micro-batches accumulate gradients, a step applies them, and
 * the initial weights can be restored after the warm-up steps (the reference's {@code step_fn} and its reset).
 * Not thread-safe: one Trainer drives it.
 */
public final class TrainingEngine implements AutoCloseable {
    /** One optimizer step's outcome. */
    public record StepResult(double trainLoss) {
    }

    private final Gpt model;
    private final ModelOptimizer optimizer;
    private final int microBatchesPerStep;
    /** The weights cast for GEMMs, shared by the micro-batches of the step being accumulated. */
    private WeightCopies stepWeightCopies;
    private Map<String, float[]> initialWeights;
    private int accumulated;
    private double lossSum;

    public TrainingEngine(Gpt model, ModelOptimizer optimizer, int microBatchesPerStep) {
        if (microBatchesPerStep < 1) {
            throw new IllegalArgumentException("micro-batches per step must be at least 1, got " + microBatchesPerStep);
        }
        this.model = model;
        this.optimizer = optimizer;
        this.microBatchesPerStep = microBatchesPerStep;
    }

    public Gpt model() {
        return model;
    }

    public int microBatchesPerStep() {
        return microBatchesPerStep;
    }

    /** Micro-batches accumulated toward the next step. */
    public int accumulated() {
        return accumulated;
    }

    /**
     * Forward and backward on one micro-batch; its gradient enters the step's sum with weight 1 / microBatchesPerStep,
     * as the reference's {@code (loss / grad_accum_steps).backward()}.
     */
    public double accumulate(TrainBatch batch) {
        if (accumulated == microBatchesPerStep) {
            throw new IllegalStateException("a step's " + microBatchesPerStep + " micro-batches are already accumulated");
        }
        Backend backend = model.parameters().backend();
        int n = batch.rows() * batch.seqLen();
        int[] inputs = new int[n];
        int[] targets = new int[n];
        for (int r = 0; r < batch.rows(); r++) {
            for (int t = 0; t < batch.seqLen(); t++) {
                inputs[r * batch.seqLen() + t] = batch.input(r, t);
                targets[r * batch.seqLen() + t] = batch.target(r, t);
            }
        }
        double loss;
        try (Tensor ids = backend.tensors().uploadInts(inputs, n);
             Tensor next = backend.tensors().uploadInts(targets, n)) {
            if (stepWeightCopies == null) {
                stepWeightCopies = new WeightCopies(backend);
            }
            loss = model.forwardBackward(ids, next, batch.rows(), batch.seqLen(), 1f / microBatchesPerStep,
                    stepWeightCopies);
        }
        accumulated++;
        lossSum += loss;
        return loss;
    }

    /** Whether the step's micro-batches are all in. */
    public boolean stepReady() {
        return accumulated == microBatchesPerStep;
    }

    /** Applies the accumulated gradients (step counts from 0; it sets Muon's momentum warm-up). */
    public StepResult step(int step, double lrMultiplier) {
        if (!stepReady()) {
            throw new IllegalStateException("step " + step + " needs " + microBatchesPerStep + " micro-batches, has "
                    + accumulated);
        }
        dropWeightCopies();
        optimizer.step(step, lrMultiplier);
        StepResult result = new StepResult(lossSum / microBatchesPerStep);
        accumulated = 0;
        lossSum = 0;
        return result;
    }

    /** Remembers the current weights, to come back to after the warm-up steps. */
    public void rememberInitialWeights() {
        initialWeights = model.parameters().valuesOnHost();
    }

    /** The reference's reset after warm-up: initial weights, fresh optimizer state, no gradients, loop off. */
    public void restoreInitialWeights() {
        if (initialWeights == null) {
            throw new IllegalStateException("no initial weights were remembered");
        }
        dropWeightCopies();
        ParameterSet parameters = model.parameters();
        parameters.forEach(p -> parameters.overwrite(p, initialWeights.get(p.name())));
        optimizer.reset();
        model.parameters().zeroGradients();
        model.setLooping(false);
        accumulated = 0;
        lossSum = 0;
        initialWeights = null;
    }

    @Override
    public void close() {
        dropWeightCopies();
        optimizer.close();
        model.close();
    }

    /** Before anything changes the weights: the copies the step's micro-batches shared go. */
    private void dropWeightCopies() {
        if (stepWeightCopies != null) {
            stepWeightCopies.close();
            stepWeightCopies = null;
        }
    }
}
