package io.pgolf.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgolf.config.ModelConfig;
import io.pgolf.config.TttConfig;
import io.pgolf.gpu.parity.ReferenceFixture;
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

    /** The fixture's model, read by the parity suite's {@link ReferenceFixture} (one reading of its knobs). */
    ModelConfig modelConfig() {
        return layout().config();
    }

    public GptLayout layout() {
        try (ReferenceFixture fixture = ReferenceFixture.open(SharedFiles.file("fixtures"))) {
            return fixture.layout();
        }
    }
}
