package io.pgolf.model.train;

import io.pgolf.config.PgolfConfig;
import io.pgolf.gpu.Backend;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.parity.Bfloat16StorageBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.GptLayout;
import io.pgolf.model.Parameter;
import io.pgolf.model.optim.ModelOptimizer;
import io.pgolf.protocol.TrainBatch;
import io.pgolf.protocol.Tokens;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The training engine shares its weights' bf16 copies across a step's micro-batches and drops them before the
 * optimizer step: on a backend with bf16 activations, where linears use those copies, three steps through the engine
 * give bit for bit the weights of the same steps made with a fresh copy per micro-batch (stale copies after a step
 * would train the next step on the old weights).
 */
class TrainingEngineWeightCopiesTest {
    private static final Map<String, String> TINY = Map.ofEntries(Map.entry("VOCAB_SIZE", "128"),
            Map.entry("NUM_LAYERS", "3"), Map.entry("MODEL_DIM", "32"), Map.entry("EMBEDDING_DIM", "32"),
            Map.entry("NUM_HEADS", "2"), Map.entry("NUM_KV_HEADS", "1"), Map.entry("ROPE_DIMS", "8"),
            Map.entry("XSA_LAST_N", "1"), Map.entry("LOOP_START", "1"), Map.entry("LOOP_END", "1"),
            Map.entry("TRAIN_SEQ_LEN", "16"), Map.entry("ROPE_TRAIN_SEQ_LEN", "16"),
            Map.entry("TRAIN_BATCH_TOKENS", "128"));
    private static final int STEPS = 3;
    private static final int MICRO_BATCHES = 2;

    @Test
    void sharedCopiesTrainAsFreshCopiesDo() {
        PgolfConfig config = PgolfConfig.load(Optional.empty(), TINY, List.of());
        List<float[]> shared;
        try (Backend backend = new Bfloat16StorageBackend(1); TrainingEngine engine = engine(backend, config)) {
            SplittableRandom random = new SplittableRandom(5);
            for (int s = 0; s < STEPS; s++) {
                for (int m = 0; m < MICRO_BATCHES; m++) {
                    engine.accumulate(batch(random, config));
                }
                engine.step(s, 1.0);
            }
            shared = weights(backend, engine.model());
        }
        List<float[]> fresh;
        try (Backend backend = new Bfloat16StorageBackend(1); Gpt model = model(backend, config);
             ModelOptimizer optimizer = optimizer(model, config)) {
            SplittableRandom random = new SplittableRandom(5);
            for (int s = 0; s < STEPS; s++) {
                for (int m = 0; m < MICRO_BATCHES; m++) {
                    TrainBatch b = batch(random, config);
                    try (Tensor ids = backend.tensors().uploadInts(column(b, true), b.rows() * b.seqLen());
                         Tensor next = backend.tensors().uploadInts(column(b, false), b.rows() * b.seqLen())) {
                        model.forwardBackward(ids, next, b.rows(), b.seqLen(), 1f / MICRO_BATCHES);
                    }
                }
                optimizer.step(s, 1.0);
            }
            fresh = weights(backend, model);
        }
        assertEquals(fresh.size(), shared.size());
        for (int i = 0; i < fresh.size(); i++) {
            assertArrayEquals(fresh.get(i), shared.get(i), "parameter " + i);
        }
    }

    private static TrainingEngine engine(Backend backend, PgolfConfig config) {
        Gpt model = model(backend, config);
        return new TrainingEngine(model, optimizer(model, config), MICRO_BATCHES);
    }

    private static Gpt model(Backend backend, PgolfConfig config) {
        return Gpt.initialized(backend, new GptLayout(config.model(), config.data().vocabSize(),
                config.optimizer().tiedEmbedInitStd()), config.train().seed());
    }

    private static ModelOptimizer optimizer(Gpt model, PgolfConfig config) {
        return new ModelOptimizer(model.parameters(), config.optimizer(), config.model().tieEmbeddings());
    }

    private static TrainBatch batch(SplittableRandom random, PgolfConfig config) {
        int rows = 2;
        int seqLen = config.train().trainSeqLen();
        int[] ids = random.ints(rows * (seqLen + 1), 0, config.data().vocabSize()).toArray();
        return new TrainBatch(0, 0, rows, seqLen, Tokens.of(ids));
    }

    private static int[] column(TrainBatch b, boolean inputs) {
        int[] ids = new int[b.rows() * b.seqLen()];
        for (int r = 0; r < b.rows(); r++) {
            for (int t = 0; t < b.seqLen(); t++) {
                ids[r * b.seqLen() + t] = inputs ? b.input(r, t) : b.target(r, t);
            }
        }
        return ids;
    }

    private static List<float[]> weights(Backend backend, Gpt model) {
        List<float[]> values = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            values.add(backend.tensors().download(p.value()));
        }
        return values;
    }
}
