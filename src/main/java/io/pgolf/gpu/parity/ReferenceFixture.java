package io.pgolf.gpu.parity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgolf.config.ModelConfig;
import io.pgolf.config.OptimizerConfig;
import io.pgolf.data.SafeTensors;
import io.pgolf.model.GptLayout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The PyTorch reference's tiny run (../shared/fixtures/reference_tiny.{json,safetensors}; their README): its
 * hyperparameters as pgolf's types, its scalars, its batch and its tensors (init weights, logits, gradients, the
 * weights after one optimizer step).
 */
public final class ReferenceFixture implements AutoCloseable {
    static final String JSON = "reference_tiny.json";
    static final String TENSORS = "reference_tiny.safetensors";

    private final Path json;
    private final JsonNode root;
    private final SafeTensors tensors;

    private ReferenceFixture(Path json, JsonNode root, SafeTensors tensors) {
        this.json = json;
        this.root = root;
        this.tensors = tensors;
    }

    /** Opens the two files in {@code dir}, failing with the path of the one that is missing or unreadable. */
    public static ReferenceFixture open(Path dir) {
        Path json = dir.resolve(JSON);
        Path safetensors = dir.resolve(TENSORS);
        for (Path file : new Path[] {json, safetensors}) {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("reference fixture " + file.toAbsolutePath() + " not found");
            }
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + json, e);
        }
        return new ReferenceFixture(json, root, SafeTensors.open(safetensors));
    }

    public SafeTensors tensors() {
        return tensors;
    }

    /** A scalar of the run ({@code noloop.loss}, {@code step1.grad_norm_before_clip}, ...). */
    public double scalar(String name) {
        return field("scalars", name).asDouble();
    }

    /** Sequences in the fixture's batch ({@code input_ids} is [batch, seqLen]). */
    public int batch() {
        return Math.toIntExact(tensors.info("input_ids").shape()[0]);
    }

    public int seqLen() {
        return Math.toIntExact(tensors.info("input_ids").shape()[1]);
    }

    /** The model's layout. The reference has no PARALLEL_RESIDUAL_START: its lanes are off. */
    public GptLayout layout() {
        ModelConfig model = new ModelConfig(integer("num_layers"), integer("xsa_last_n"), integer("model_dim"),
                integer("embedding_dim"), integer("num_heads"), integer("num_kv_heads"), real("mlp_mult"),
                flag("skip_gates_enabled"), tieEmbeddings(), real("logit_softcap"), real("rope_base"),
                integer("rope_dims"), integer("rope_train_seq_len"), flag("ln_scale"), real("qk_gain_init"),
                integer("num_loops"), integer("loop_start"), integer("loop_end"), real("enable_looping_at"),
                ModelConfig.PARALLEL_RESIDUAL_OFF);
        return new GptLayout(model, integer("vocab_size"), real("tied_embed_init_std"));
    }

    /** The optimizer settings of the run's step1. */
    public OptimizerConfig optimizerConfig() {
        return new OptimizerConfig(real("min_lr"), real("embed_lr"), real("head_lr"), real("tied_embed_lr"),
                real("tied_embed_init_std"), real("matrix_lr"), real("scalar_lr"), real("muon_momentum"),
                integer("muon_backend_steps"), real("muon_momentum_warmup_start"),
                integer("muon_momentum_warmup_steps"), flag("muon_row_normalize"), real("beta1"), real("beta2"),
                real("adam_eps"), real("grad_clip_norm"), real("muon_beta2"), real("adam_wd"), real("muon_wd"),
                real("embed_wd"), real("ema_decay"));
    }

    public boolean tieEmbeddings() {
        return flag("tie_embeddings");
    }

    private JsonNode field(String section, String name) {
        JsonNode node = root.path(section).get(name);
        if (node == null || node.isNull()) {
            throw new IllegalArgumentException(json + ": no " + section + "." + name);
        }
        return node;
    }

    private int integer(String name) {
        return field("hyperparameters", name).asInt();
    }

    private double real(String name) {
        return field("hyperparameters", name).asDouble();
    }

    private boolean flag(String name) {
        return field("hyperparameters", name).asBoolean();
    }

    @Override
    public void close() {
        tensors.close();
    }
}
