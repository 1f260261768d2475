package io.pgolf.model.eval;

import io.pgolf.config.PrequantTttConfig;
import io.pgolf.gpu.Backend;
import io.pgolf.model.Gpt;
import io.pgolf.model.optim.AdamW;
import io.pgolf.protocol.TokenSpan;
import io.pgolf.protocol.Tokens;

import java.util.ArrayList;
import java.util.List;

/**
 * Pre-quantization TTT (seeds/001, the pre_quant_adamw_ttt of PRs #1735/#1738): before GPTQ, AdamW trains the
 * model on the validation tokens themselves for PREQUANT_TTT_EPOCHS epochs, so every validation token has been
 * trained on before it is scored. That breaks "score before update" (STACK §6): runs that use it are never
 * records.
 *
 * <p>No reference output of that code is at hand, so this follows its published description: each epoch walks the
 * tokens' whole seqLen sequences in order, in batches of {@code batchSeqs}; one AdamW (betas 0.9 and 0.999, eps
 * 1e-8, no weight decay) over the parameters outside the first PREQUANT_TTT_FREEZE_BLOCKS blocks; the learning
 * rate falls along a cosine from PREQUANT_TTT_LR to a tenth of it over all steps (torch's CosineAnnealingLR with
 * eta_min = lr / 10); no gradient clipping. The model runs with its own depth-loop setting.
 */
public final class PrequantTtt {
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.999;
    static final double EPS = 1e-8;
    /** The cosine ends at this fraction of the peak learning rate. */
    static final double FINAL_LR_FRACTION = 0.1;

    /** What pre-quant TTT did: the tokens its steps read, its steps and each epoch's mean loss. */
    public record Training(TokenSpan tokensRead, int epochs, int optimizerSteps, double learningRate,
                           int frozenBlocks, List<Double> epochLosses) {
        public Training {
            epochLosses = List.copyOf(epochLosses);
        }
    }

    private PrequantTtt() {
    }

    /** Trains {@code model} in place on {@code tokens}; the gradients are left holding the last step's. */
    public static Training train(Gpt model, Tokens tokens, int seqLen, int batchSeqs, PrequantTttConfig config) {
        if (seqLen <= 0 || batchSeqs <= 0 || config.prequantTttEpochs() < 0) {
            throw new IllegalArgumentException("seqLen and batchSeqs must be positive and epochs non-negative, got "
                    + seqLen + ", " + batchSeqs + ", " + config.prequantTttEpochs());
        }
        int sequences = (tokens.length() - 1) / seqLen;
        int batchesPerEpoch = Math.ceilDiv(sequences, batchSeqs);
        int totalSteps = config.prequantTttEpochs() * batchesPerEpoch;
        FrozenBlocks split = FrozenBlocks.of(model, config.prequantTttFreezeBlocks());
        Backend backend = model.parameters().backend();
        List<Double> epochLosses = new ArrayList<>();
        int step = 0;
        try (AdamW optimizer = new AdamW(backend, split.trained(), config.prequantTttLr(), BETA1, BETA2, EPS, 0.0)) {
            for (int epoch = 0; epoch < config.prequantTttEpochs(); epoch++) {
                double lossSum = 0;
                for (int first = 0; first < sequences; first += batchSeqs) {
                    int batch = Math.min(batchSeqs, sequences - first);
                    lossSum += TokenSpanTraining.forwardBackward(model, tokens, first * seqLen, batch, seqLen);
                    optimizer.step(learningRateMultiplier(step, totalSteps));
                    step++;
                }
                epochLosses.add(lossSum / batchesPerEpoch);
            }
        }
        int readEnd = step == 0 ? 0 : sequences * seqLen + 1;
        return new Training(new TokenSpan(0, readEnd), config.prequantTttEpochs(), step, config.prequantTttLr(),
                config.prequantTttFreezeBlocks(), epochLosses);
    }

    /** The cosine from 1 at step 0 down towards {@link #FINAL_LR_FRACTION} at step {@code totalSteps}. */
    static double learningRateMultiplier(int step, int totalSteps) {
        return FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * 0.5 * (1 + Math.cos(Math.PI * step / totalSteps));
    }
}
