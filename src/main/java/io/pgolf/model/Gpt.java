package io.pgolf.model;

import io.pgolf.config.ModelConfig;
import io.pgolf.gpu.AttentionShape;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.DType;
import io.pgolf.gpu.RopeTable;
import io.pgolf.gpu.Tensor;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The reference's GPT on a {@link Backend}, written once for training and evaluation alike (see {@link GptLayout}
 * for the parameters and the block order).
 *
 * <p>Forward: x = rms_norm(tok_emb[ids]) (then embed_proj when the embedding is narrower), x0 = x; each encoder
 * block's output is pushed; before decoder block j the latest pushed output comes back through the skip gate
 * (lerp(skip_weights[j] * skip, x, sigmoid(skip_gates[j])), or x + skip_weights[j] * skip without gates). A block:
 * x_in = resid_mix[0] * x + resid_mix[1] * x0; x = x_in + attn_scale * attn(rms_norm(x_in) * s);
 * x = x + mlp_scale * mlp(rms_norm(x) * s). With parallel residuals, from the first decoder block whose physical
 * index is at least PARALLEL_RESIDUAL_START, attention and MLP run on two lanes started from the same x: lane 0
 * takes the residual mix, attention and the skips, lane 1 only the MLP; after the last block
 * x = lane_merge * lane0 + (1 - lane_merge) * lane1. Then rms_norm (head_proj), logits = x @ tok_emb^T (or lm_head),
 * softcapped, cross-entropy.
 *
 * <p>Inputs are I32 tensors of batch * seqLen token ids (row b * seqLen + t). Not thread-safe.
 */
public final class Gpt implements AutoCloseable {
    private static final float MLP_NEGATIVE_SLOPE = 0.5f;

    private record Block(int layer, Parameter attnScale, Parameter mlpScale, Parameter residMix, Parameter qGain,
                         Parameter query, Parameter key, Parameter value, Parameter attnProj, Parameter fc,
                         Parameter mlpProj) {
    }

    private final Backend backend;
    private final GptLayout layout;
    private final ModelConfig config;
    private final ParameterSet parameters;
    private final List<Block> blocks;
    private final RopeTables ropeTables;
    private boolean looping;

    private Gpt(Backend backend, GptLayout layout, List<float[]> initialValues) {
        this.backend = backend;
        this.layout = layout;
        this.config = layout.config();
        this.parameters = new ParameterSet(backend);
        List<ParameterSpec> specs = layout.parameters();
        for (int i = 0; i < specs.size(); i++) {
            parameters.add(specs.get(i).name(), initialValues.get(i), specs.get(i).shape());
        }
        this.blocks = IntStream.range(0, config.numLayers()).mapToObj(this::block).toList();
        this.ropeTables = new RopeTables(backend, layout.ropeDims(), config.ropeBase(), config.ropeTrainSeqLen());
    }

    /** A model initialized as the reference initializes it, from a Java RNG seeded with {@code seed}. */
    public static Gpt initialized(Backend backend, GptLayout layout, long seed) {
        return new Gpt(backend, layout, ParameterInitializer.draw(layout.parameters(), seed));
    }

    /** A model whose parameters are all zero, to be loaded (see {@link ParameterSet#loadFrom}). */
    public static Gpt zeros(Backend backend, GptLayout layout) {
        return new Gpt(backend, layout, layout.parameters().stream()
                .map(spec -> new float[Math.toIntExact(spec.elementCount())]).toList());
    }

    private Block block(int i) {
        String p = "blocks." + i + ".";
        return new Block(i, parameters.get(p + "attn_scale"), parameters.get(p + "mlp_scale"),
                parameters.get(p + "resid_mix"), parameters.get(p + "attn.q_gain"),
                parameters.get(p + "attn.c_q.weight"), parameters.get(p + "attn.c_k.weight"),
                parameters.get(p + "attn.c_v.weight"), parameters.get(p + "attn.proj.weight"),
                parameters.get(p + "mlp.fc.weight"), parameters.get(p + "mlp.proj.weight"));
    }

    public GptLayout layout() {
        return layout;
    }

    public ParameterSet parameters() {
        return parameters;
    }

    /** Switches the depth loop (the reference's looping_active); off after construction. */
    public void setLooping(boolean looping) {
        this.looping = looping;
    }

    public boolean looping() {
        return looping;
    }

    /**
     * One forward and backward pass: adds d(gradScale * mean loss)/d(parameter) into every parameter's gradient
     * (so micro-batches accumulate; zero them with {@link ParameterSet#zeroGradients()}) and returns the mean
     * cross-entropy in nats.
     */
    public double forwardBackward(Tensor inputIds, Tensor targetIds, int batch, int seqLen, float gradScale) {
        try (WeightCopies weightCopies = new WeightCopies(backend)) {
            return forwardBackward(inputIds, targetIds, batch, seqLen, gradScale, weightCopies);
        }
    }

    /**
     * {@link #forwardBackward(Tensor, Tensor, int, int, float)} with the weights' activation-type copies taken from
     * {@code weightCopies}, which the caller keeps while the weights stay as they are (a step's micro-batches).
     */
    public double forwardBackward(Tensor inputIds, Tensor targetIds, int batch, int seqLen, float gradScale,
                                  WeightCopies weightCopies) {
        int n = requireTokens(inputIds, targetIds, batch, seqLen);
        try (Graph graph = Graph.training(backend, weightCopies)) {
            Var logits = logitsBeforeCap(graph, inputIds, batch, seqLen);
            Tensor losses = graph.softcapCrossEntropy(logits, targetIds, (float) config.logitSoftcap(),
                    gradScale / n);
            // Read after the backward is queued, so that the host queues it without waiting for the forward.
            graph.backward();
            return sum(backend.tensors().download(losses)) / n;
        }
    }

    /** The loss of every target, in nats (float32 [batch * seqLen]), without gradients (evaluation). */
    public float[] tokenLosses(Tensor inputIds, Tensor targetIds, int batch, int seqLen) {
        requireTokens(inputIds, targetIds, batch, seqLen);
        try (Graph graph = Graph.inference(backend)) {
            Var logits = logitsBeforeCap(graph, inputIds, batch, seqLen);
            return backend.tensors().download(
                    graph.softcapCrossEntropy(logits, targetIds, (float) config.logitSoftcap(), 0f));
        }
    }

    /** The softcapped logits [batch * seqLen, vocab], a new tensor the caller closes. */
    public Tensor logits(Tensor inputIds, int batch, int seqLen) {
        requireIds(inputIds, batch, seqLen, "input ids");
        try (Graph graph = Graph.inference(backend)) {
            Var z = logitsBeforeCap(graph, inputIds, batch, seqLen);
            Tensor out = backend.tensors().zeros(backend.activationType(), z.shape());
            backend.layers().softcap(z.value(), (float) config.logitSoftcap(), out);
            return out;
        }
    }

    /**
     * The forward pass without gradients, showing every linear layer's input to {@code observer} (GPTQ's
     * calibration: the reference's forward hooks on {@code forward_logits}). Runs with the current depth-loop setting.
     */
    public void observeLinearInputs(Tensor inputIds, int batch, int seqLen, LinearInputObserver observer) {
        requireIds(inputIds, batch, seqLen, "input ids");
        try (Graph graph = Graph.observing(backend, observer)) {
            logitsBeforeCap(graph, inputIds, batch, seqLen);
        }
    }

    private Var logitsBeforeCap(Graph g, Tensor ids, int batch, int seqLen) {
        RopeTable rope = ropeTables.forLength(seqLen);
        AttentionShape shape = new AttentionShape(batch, seqLen, config.numHeads(), config.numKvHeads(),
                config.headDim(), (float) (1.0 / Math.sqrt(config.headDim())));
        Var tokenEmbedding = g.parameter(parameters.get("tok_emb.weight"));
        Var x = g.rmsNorm(g.embedding(ids, tokenEmbedding), 1f);
        if (layout.hasEmbeddingProjections()) {
            x = g.linear(x, g.parameter(parameters.get("embed_proj.weight")));
        }
        Var x0 = x;
        GptLayout.Schedule schedule = layout.schedule(looping);
        Deque<Var> skips = new ArrayDeque<>();
        for (int layer : schedule.encoder()) {
            x = fullBlock(g, blocks.get(layer), x, x0, rope, shape);
            skips.push(x);
        }
        int skipCount = layout.skipCount();
        Var mlpLane = null;
        List<Integer> decoder = schedule.decoder();
        for (int j = 0; j < decoder.size(); j++) {
            Block block = blocks.get(decoder.get(j));
            if (j < skipCount && !skips.isEmpty()) {
                x = skip(g, j, x, skips.pop());
            }
            if (mlpLane != null) {
                mlpLane = mlpHalf(g, block, mlpLane);
                x = attentionHalf(g, block, x, x0, rope, shape);
            } else if (config.parallelResidualsEnabled() && block.layer() >= config.parallelResidualStart()) {
                mlpLane = mlpHalf(g, block, x);
                x = attentionHalf(g, block, x, x0, rope, shape);
            } else {
                x = fullBlock(g, block, x, x0, rope, shape);
            }
        }
        if (mlpLane != null) {
            x = g.laneMerge(x, mlpLane, g.parameter(parameters.get("lane_merge")));
        }
        x = g.rmsNorm(x, 1f);
        if (layout.hasEmbeddingProjections()) {
            x = g.linear(x, g.parameter(parameters.get("head_proj.weight")));
        }
        Var head = config.tieEmbeddings() ? tokenEmbedding : g.parameter(parameters.get("lm_head.weight"));
        return g.linear(x, head);
    }

    private Var skip(Graph g, int j, Var x, Var skipped) {
        Var weight = g.row(g.parameter(parameters.get("skip_weights")), j);
        if (config.skipGatesEnabled()) {
            return g.skipGate(x, skipped, weight, g.row(g.parameter(parameters.get("skip_gates")), j));
        }
        return g.scaledResidual(x, weight, skipped);
    }

    /**
     * Both halves, each residual op fused with the norm that reads its result: x_in with rms_norm(x_in) * s, then
     * x_in + attn_scale * attn(...) with its norm for the MLP.
     */
    private Var fullBlock(Graph g, Block block, Var x, Var x0, RopeTable rope, AttentionShape shape) {
        float normScale = layout.normScale(block.layer());
        Graph.NormedResidual mixed = g.residualMixRmsNorm(x, x0, g.parameter(block.residMix()), normScale);
        Graph.NormedResidual attended = g.scaledResidualRmsNorm(mixed.residual(), g.parameter(block.attnScale()),
                attention(g, block, mixed.normed(), rope, shape), normScale);
        return g.scaledResidual(attended.residual(), g.parameter(block.mlpScale()), mlp(g, block, attended.normed()));
    }

    /** x_in = resid_mix . (x, x0); x_in + attn_scale * attn(rms_norm(x_in) * s). */
    private Var attentionHalf(Graph g, Block block, Var x, Var x0, RopeTable rope, AttentionShape shape) {
        Graph.NormedResidual mixed = g.residualMixRmsNorm(x, x0, g.parameter(block.residMix()),
                layout.normScale(block.layer()));
        return g.scaledResidual(mixed.residual(), g.parameter(block.attnScale()),
                attention(g, block, mixed.normed(), rope, shape));
    }

    /** x + mlp_scale * mlp(rms_norm(x) * s). */
    private Var mlpHalf(Graph g, Block block, Var x) {
        Var normed = g.rmsNorm(x, layout.normScale(block.layer()));
        return g.scaledResidual(x, g.parameter(block.mlpScale()), mlp(g, block, normed));
    }

    /** The attention branch on the block's normed input: proj(attention(q, k, v)), q, k and v from one GEMM. */
    private Var attention(Graph g, Block block, Var normed, RopeTable rope, AttentionShape shape) {
        Var qkv = g.stackedLinear(normed,
                List.of(g.parameter(block.query()), g.parameter(block.key()), g.parameter(block.value())));
        Graph.QueryKeyValue heads = g.qkvNormRope(qkv, shape, rope, g.parameter(block.qGain()));
        Var y = g.attention(heads.q(), heads.k(), heads.v(), shape, layout.usesXsa(block.layer()));
        return g.linear(y, g.parameter(block.attnProj()));
    }

    /** The MLP branch on the block's normed input: proj(leaky_relu(fc(normed), 0.5)^2). */
    private Var mlp(Graph g, Block block, Var normed) {
        return g.leakyReluSquaredMlp(normed, g.parameter(block.fc()), g.parameter(block.mlpProj()),
                MLP_NEGATIVE_SLOPE);
    }

    private static int requireTokens(Tensor inputIds, Tensor targetIds, int batch, int seqLen) {
        requireIds(targetIds, batch, seqLen, "target ids");
        return requireIds(inputIds, batch, seqLen, "input ids");
    }

    private static int requireIds(Tensor ids, int batch, int seqLen, String what) {
        if (batch <= 0 || seqLen <= 0) {
            throw new IllegalArgumentException("batch " + batch + " and seqLen " + seqLen + " must be positive");
        }
        long n = (long) batch * seqLen;
        if (ids.dtype() != DType.I32 || ids.size() != n) {
            throw new IllegalArgumentException(what + " must be I32 with batch * seqLen = " + n + " elements, got "
                    + ids.describe());
        }
        return (int) n;
    }

    private static double sum(float[] values) {
        double total = 0;
        for (float v : values) {
            total += v;
        }
        return total;
    }

    @Override
    public void close() {
        ropeTables.close();
        parameters.close();
    }
}
