package io.pgolf.model.eval;

import io.pgolf.config.TttConfig;
import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.Tensor;
import io.pgolf.model.Gpt;
import io.pgolf.model.Parameter;
import io.pgolf.model.optim.GradientClipping;
import io.pgolf.protocol.ScoringMethod;
import io.pgolf.protocol.TokenSpan;
import io.pgolf.protocol.Tokens;

import java.util.ArrayList;
import java.util.List;

/**
 * Legal score-first test-time training (STACK §6; the reference's eval_val_sliding_ttt) as explicit steps, on one
 * rank: for each chunk of {@link TttPlan#scoredChunks()} in order, {@link #score} it with the weights as they are,
 * in batches of TTT_BATCH_SEQS windows, then, unless it is the last chunk, {@link #train} on it with the receipt that
 * scoring returned. The steps must alternate in that order; anything else is refused. The bits per byte are the sum
 * of the receipts' totals.
 *
 * <p>Training: one SGD with momentum over the pass (torch semantics, no dampening or decay, the buffer persists
 * across chunks), TTT_EPOCHS epochs over the chunk's whole sequences in order, batches of TTT_BATCH_SEQS, mean
 * cross-entropy, the gradient norm of the trained parameters clipped to TTT_GRAD_CLIP. The parameters of the first
 * TTT_FREEZE_BLOCKS blocks (names holding {@code blocks.b.}) are frozen. The model runs with its own depth-loop
 * setting, which the reference's evaluation model has on.
 *
 * <p>With several ranks, each would score a contiguous share of the chunk's windows and train on a contiguous share
 * of its sequences ({@code [n * r / W, n * (r + 1) / W)}), averaging the gradients across ranks before clipping.
 */
public final class ScoreFirstTtt implements AutoCloseable {
    private final Gpt model;
    private final Tokens tokens;
    private final TttPlan plan;
    private final TttConfig config;
    private final ByteTables tables;
    private final GptScorer scorer;
    private final List<Parameter> trained;
    private final List<Parameter> frozen;
    private final List<Tensor> momentum;
    private final GradientClipping clipping;
    private final List<Integer> chunkOrder;
    private int nextToScore;
    private ScoreReceipt awaitingTraining;
    private int lastTrained = -1;
    private boolean optimizerStepped;

    /**
     * @param tokens validation tokens; the windows cover tokens.length() - 1 targets
     * @param seqLen sliding window length and TTT training sequence length (EVAL_SEQ_LEN)
     * @param stride sliding window stride (EVAL_STRIDE)
     */
    public ScoreFirstTtt(Gpt model, Tokens tokens, int seqLen, int stride, TttConfig config, ByteTables tables) {
        if (config.tttBatchSeqs() <= 0 || config.tttEpochs() < 0 || !(config.tttGradClip() > 0)) {
            throw new IllegalArgumentException("ttt batch-seqs and grad-clip must be positive and epochs"
                    + " non-negative, got " + config.tttBatchSeqs() + ", " + config.tttGradClip() + ", "
                    + config.tttEpochs());
        }
        this.model = model;
        this.tokens = tokens;
        this.plan = TttPlan.of(new SlidingWindows(tokens.length() - 1, seqLen, stride), config.tttChunkTokens());
        this.config = config;
        this.tables = tables;
        this.scorer = new GptScorer(model);
        FrozenBlocks split = FrozenBlocks.of(model, config.tttFreezeBlocks());
        this.trained = split.trained();
        this.frozen = split.frozen();
        Backend backend = model.parameters().backend();
        this.momentum = trained.stream().map(p -> backend.tensors().zeros(DType.F32, p.shape())).toList();
        this.clipping = new GradientClipping(model.parameters());
        this.chunkOrder = plan.scoredChunks();
    }

    public TttPlan plan() {
        return plan;
    }

    /** The model's vocabulary size: what a score normalized over the whole vocabulary normalizes over. */
    public int vocabSize() {
        return model.layout().vocabSize();
    }

    /** How {@link #score} scores: the model's attention and normalization. */
    public ScoringMethod scoringMethod() {
        return scorer.scoringMethod();
    }

    /** Names of the parameters TTT updates, in the model's order. */
    public List<String> trainedParameters() {
        return trained.stream().map(Parameter::name).toList();
    }

    /** Whether every chunk has been scored (and every chunk but the last trained on). */
    public boolean finished() {
        return nextToScore == chunkOrder.size() && awaitingTraining == null;
    }

    /** The chunk the next {@link #score} must name: the next chunk holding windows. */
    public int nextChunkToScore() {
        if (nextToScore == chunkOrder.size()) {
            throw new IllegalStateException("every chunk is scored");
        }
        return chunkOrder.get(nextToScore);
    }

    /**
     * Scores every window of {@code chunk} with the current weights, without gradients. The chunk must be the next
     * one in order, and the chunk scored before it must have been trained on.
     */
    public ScoreReceipt score(int chunk) {
        if (awaitingTraining != null) {
            throw new IllegalStateException("chunk " + awaitingTraining.chunk() + " is scored but not trained on;"
                    + " train on it before scoring chunk " + chunk);
        }
        int expected = nextChunkToScore();
        if (chunk != expected) {
            throw new IllegalStateException("chunk " + chunk + " is out of order: the next chunk to score is "
                    + expected);
        }
        List<Integer> starts = plan.windowsOf(chunk);
        BitsPerByte sums = new BitsPerByte(tables);
        WindowScoring.score(tokens, plan.windows(), starts, config.tttBatchSeqs(), scorer, sums);
        ScoreReceipt receipt = new ScoreReceipt(chunk, sums.totals(), starts);
        nextToScore++;
        if (!plan.isLast(chunk)) {
            awaitingTraining = receipt;
        }
        return receipt;
    }

    /**
     * Trains on the chunk that {@code receipt} proves scored: it must be the receipt of the last {@link #score},
     * of a chunk not yet trained on, and not of the last chunk.
     */
    public ChunkTraining train(ScoreReceipt receipt) {
        int chunk = receipt.chunk();
        if (plan.isLast(chunk)) {
            throw new IllegalArgumentException("chunk " + chunk + " is the last chunk, which is never trained on");
        }
        if (chunk <= lastTrained) {
            throw new IllegalArgumentException("chunk " + chunk + " is already trained on");
        }
        if (awaitingTraining == null) {
            throw new IllegalArgumentException("chunk " + chunk + " is not scored yet; no scored chunk awaits training");
        }
        if (chunk != awaitingTraining.chunk()) {
            throw new IllegalArgumentException("receipt is for chunk " + chunk + ", but the chunk awaiting training is "
                    + awaitingTraining.chunk());
        }
        if (!receipt.equals(awaitingTraining)) {
            throw new IllegalArgumentException("receipt for chunk " + chunk + " is not the one its scoring returned");
        }
        ChunkTraining result = trainOn(chunk);
        awaitingTraining = null;
        lastTrained = chunk;
        return result;
    }

    /** Every step in order, the whole pass: the bits-per-byte totals over all windows. */
    public BitsPerByte.Totals run() {
        BitsPerByte sums = new BitsPerByte(tables);
        while (nextToScore < chunkOrder.size()) {
            ScoreReceipt receipt = score(nextChunkToScore());
            sums.merge(receipt.totals());
            if (!plan.isLast(receipt.chunk())) {
                train(receipt);
            }
        }
        return sums.totals();
    }

    private ChunkTraining trainOn(int chunk) {
        int seqLen = plan.windows().seqLen();
        int sequences = plan.trainingSequences(chunk);
        int chunkStart = plan.chunkStart(chunk);
        double lr = plan.learningRate(chunk, config.tttLr());
        List<Double> losses = new ArrayList<>();
        List<Double> gradNorms = new ArrayList<>();
        int readEnd = chunkStart;
        for (int epoch = 0; epoch < config.tttEpochs(); epoch++) {
            for (int first = 0; first < sequences; first += config.tttBatchSeqs()) {
                int batch = Math.min(config.tttBatchSeqs(), sequences - first);
                int startToken = chunkStart + first * seqLen;
                int endToken = startToken + batch * seqLen + 1;
                // The reference skips a batch whose last target would lie past the tokens.
                if (endToken > tokens.length()) {
                    continue;
                }
                losses.add(forwardBackward(startToken, batch, seqLen));
                gradNorms.add(step((float) lr));
                readEnd = Math.max(readEnd, endToken);
            }
        }
        return new ChunkTraining(chunk, lr, config.tttEpochs(), new TokenSpan(chunkStart, readEnd), losses, gradNorms);
    }

    /** The mean loss of batch sequences from startToken; the gradients of the trained parameters hold its gradient. */
    private double forwardBackward(int startToken, int batch, int seqLen) {
        double loss = TokenSpanTraining.forwardBackward(model, tokens, startToken, batch, seqLen);
        // Frozen parameters take no gradient in the reference; zero ones add nothing to the clipped norm.
        for (Parameter p : frozen) {
            model.parameters().backend().tensors().fill(p.grad(), 0f);
        }
        return loss;
    }

    /** Clips the gradients and takes one SGD step; returns the norm before clipping. */
    private double step(float lr) {
        clipping.clip(config.tttGradClip());
        double norm = clipping.norm();
        Backend backend = model.parameters().backend();
        for (int i = 0; i < trained.size(); i++) {
            Parameter p = trained.get(i);
            backend.optimizer().sgdMomentum(p.value(), p.grad(), momentum.get(i), lr, (float) config.tttMomentum(),
                    false, !optimizerStepped);
        }
        optimizerStepped = true;
        return norm;
    }

    /** Frees the momentum buffers and the clipping's norm; the model stays open. */
    @Override
    public void close() {
        momentum.forEach(Tensor::close);
        clipping.close();
    }
}
