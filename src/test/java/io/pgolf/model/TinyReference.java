package io.pgolf.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgolf.config.ModelConfig;
import io.pgolf.config.TttConfig;
import io.pgolf.testing.SharedFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The tiny PyTorch reference run of the fixtures: its hyperparameters (reference_tiny.json) as pgolf's types. */
public final class TinyReference {
    private final JsonNode root;

    private TinyReference(JsonNode root) {
        this.root = root;
    }

    public static TinyReference load() {
        Path json = SharedFiles.file("fixtures/reference_tiny.json");
        try {
            return new TinyReference(new ObjectMapper().readTree(json.toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + json, e);
        }
    }

    public static Path tensors() {
        return SharedFiles.file("fixtures/reference_tiny.safetensors");
    }

    private JsonNode hyper(String name) {
        JsonNode node = root.path("hyperparameters").get(name);
        if (node == null) {
            throw new IllegalStateException("reference_tiny.json has no hyperparameter " + name);
        }
        return node;
    }

    double scalar(String name) {
        JsonNode node = root.path("scalars").get(name);
        if (node == null) {
            throw new IllegalStateException("reference_tiny.json has no scalar " + name);
        }
        return node.asDouble();
    }

    /** A scalar pair of the fixture ({@code eval.plain} and the like: [val_loss, val_bpb]). */
    public double[] scalarPair(String name) {
        JsonNode node = root.path("scalars").get(name);
        if (node == null || !node.isArray() || node.size() != 2) {
            throw new IllegalStateException("reference_tiny.json has no scalar pair " + name);
        }
        return new double[] {node.get(0).asDouble(), node.get(1).asDouble()};
    }

    public int evalSeqLen() {
        return hyper("eval_seq_len").asInt();
    }

    public int evalStride() {
        return hyper("eval_stride").asInt();
    }

    /** The TTT knobs of the fixture's pass (its TTT_ENABLED was off in the training run that wrote it). */
    public TttConfig tttConfig() {
        return new TttConfig(hyper("ttt_enabled").asBoolean(), hyper("ttt_lr").asDouble(),
                hyper("ttt_momentum").asDouble(), hyper("ttt_epochs").asInt(), hyper("ttt_chunk_tokens").asInt(),
                hyper("ttt_freeze_blocks").asInt(), hyper("ttt_grad_clip").asDouble(), hyper("ttt_batch_seqs").asInt());
    }

    int vocabSize() {
        return hyper("vocab_size").asInt();
    }

    int trainSeqLen() {
        return hyper("train_seq_len").asInt();
    }

    /** The reference has no PARALLEL_RESIDUAL_START: its lanes are off. */
    ModelConfig modelConfig() {
        return new ModelConfig(hyper("num_layers").asInt(), hyper("xsa_last_n").asInt(), hyper("model_dim").asInt(),
                hyper("embedding_dim").asInt(), hyper("num_heads").asInt(), hyper("num_kv_heads").asInt(),
                hyper("mlp_mult").asDouble(), hyper("skip_gates_enabled").asBoolean(),
                hyper("tie_embeddings").asBoolean(), hyper("logit_softcap").asDouble(), hyper("rope_base").asDouble(),
                hyper("rope_dims").asInt(), hyper("train_seq_len").asInt(), hyper("ln_scale").asBoolean(),
                hyper("qk_gain_init").asDouble(), hyper("num_loops").asInt(), hyper("loop_start").asInt(),
                hyper("loop_end").asInt(), hyper("enable_looping_at").asDouble(), ModelConfig.PARALLEL_RESIDUAL_OFF);
    }

    public GptLayout layout() {
        return new GptLayout(modelConfig(), vocabSize(), hyper("tied_embed_init_std").asDouble());
    }
}
