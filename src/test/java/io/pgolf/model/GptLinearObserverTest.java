package io.pgolf.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgolf.data.SafeTensors;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.cpu.CpuBackend;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link Gpt#observeLinearInputs} on the tiny reference model (5 layers, layers 1-2 looped twice more when on). */
class GptLinearObserverTest {
    private static SafeTensors fixture;
    private static CpuBackend backend;
    private static int batch;
    private static int seqLen;

    @BeforeAll
    static void open() {
        fixture = SafeTensors.open(TinyReference.tensors());
        backend = new CpuBackend(2);
        long[] shape = fixture.info("input_ids").shape();
        batch = (int) shape[0];
        seqLen = (int) shape[1];
    }

    @AfterAll
    static void close() {
        backend.close();
        fixture.close();
    }

    private static Gpt referenceModel(boolean looping) {
        Gpt model = Gpt.zeros(backend, TinyReference.load().layout());
        model.parameters().loadFrom(fixture, "init.");
        model.setLooping(looping);
        return model;
    }

    @ParameterizedTest(name = "looping {0}")
    @ValueSource(booleans = {false, true})
    void everyLinearIsSeenEachTimeItRuns(boolean looping) {
        Map<String, Integer> seen = new TreeMap<>();
        try (Gpt model = referenceModel(looping);
             Tensor ids = backend.tensors().uploadInts(fixture.ints("input_ids"), batch * seqLen)) {
            model.observeLinearInputs(ids, batch, seqLen, (weight, input) -> {
                assertEquals(batch * seqLen, input.rows(), weight.name() + " input rows");
                assertEquals(weight.shape()[1], input.dim(-1), weight.name() + " input width");
                seen.merge(weight.name(), 1, Integer::sum);
            });
        }
        Map<String, Integer> expected = new TreeMap<>();
        for (int layer = 0; layer < 5; layer++) {
            int runs = looping && (layer == 1 || layer == 2) ? 3 : 1;
            for (String linear : new String[] {"attn.c_q", "attn.c_k", "attn.c_v", "attn.proj", "mlp.fc", "mlp.proj"}) {
                expected.put("blocks." + layer + "." + linear + ".weight", runs);
            }
        }
        expected.put("tok_emb.weight", 1);
        assertEquals(expected, seen);
    }

    @Test
    void tiedEmbeddingSeesTheHeadInput() {
        try (Gpt model = referenceModel(true);
             Tensor ids = backend.tensors().uploadInts(fixture.ints("input_ids"), batch * seqLen);
             Tensor logits = model.logits(ids, batch, seqLen)) {
            Tensor embedding = model.parameters().get("tok_emb.weight").value();
            int vocab = embedding.dim(0);
            float[][] head = new float[1][];
            model.observeLinearInputs(ids, batch, seqLen, (weight, input) -> {
                if (weight.name().equals("tok_emb.weight")) {
                    try (Tensor z = backend.tensors().zeros(input.dtype(), batch * seqLen, vocab);
                         Tensor capped = backend.tensors().zeros(input.dtype(), batch * seqLen, vocab)) {
                        backend.tensors().gemm(false, true, 1f, input, embedding, 0f, z);
                        backend.layers().softcap(z, (float) model.layout().config().logitSoftcap(), capped);
                        head[0] = backend.tensors().download(capped);
                    }
                }
            });
            assertArrayEquals(backend.tensors().download(logits), head[0]);
        }
    }
}
