package io.pgolf.model.eval;

import io.pgolf.config.TttConfig;
import io.pgolf.data.SafeTensors;
import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.data.bytes.ByteTables;
import io.pgolf.gpu.Tensor;
import io.pgolf.gpu.cpu.CpuBackend;
import io.pgolf.model.Gpt;
import io.pgolf.model.Parameter;
import io.pgolf.model.TinyReference;
import io.pgolf.protocol.TokenSpan;
import io.pgolf.protocol.Tokens;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The order score-first TTT enforces, on the tiny model with 384 validation targets in 3 chunks of 128 (training:
 * 4 sequences of 32 per chunk, 2 epochs, batches of 4).
 */
class ScoreFirstTttTest {
    private static final int SEQ_LEN = 32;
    private static final int STRIDE = 8;

    @TempDir
    static Path dir;
    private static TinyReference reference;
    private static SafeTensors fixture;
    private static CpuBackend backend;
    private static Tokens tokens;
    private static ByteTables tables;

    @BeforeAll
    static void open() throws Exception {
        reference = TinyReference.load();
        fixture = SafeTensors.open(TinyReference.tensors());
        backend = new CpuBackend(2);
        tokens = EvalFixtures.validationPrefix(dir, SEQ_LEN, 385);
        tables = EvalFixtures.tables();
    }

    @AfterAll
    static void close() {
        backend.close();
        fixture.close();
    }

    private static TttConfig config(int freezeBlocks) {
        return new TttConfig(true, 0.005, 0.9, 2, 128, freezeBlocks, 1.0, 4);
    }

    private static Gpt model() {
        return EvalFixtures.model(backend, reference, fixture, "step1.");
    }

    private static ScoreFirstTtt ttt(Gpt model, int freezeBlocks) {
        return new ScoreFirstTtt(model, tokens, SEQ_LEN, STRIDE, config(freezeBlocks), tables);
    }

    @Test
    void trainRefusesAReceiptOfAnotherChunk() {
        try (Gpt model = model(); ScoreFirstTtt ttt = ttt(model, 0)) {
            ScoreReceipt first = ttt.score(0);
            ScoreReceipt forged = new ScoreReceipt(1, first.totals(), ttt.plan().windowsOf(1));
            assertEquals("receipt is for chunk 1, but the chunk awaiting training is 0",
                    assertThrows(IllegalArgumentException.class, () -> ttt.train(forged)).getMessage());
            ScoreReceipt partial = new ScoreReceipt(0, first.totals(), first.windowStarts().subList(0, 3));
            assertEquals("receipt for chunk 0 is not the one its scoring returned",
                    assertThrows(IllegalArgumentException.class, () -> ttt.train(partial)).getMessage());
            assertEquals(0, ttt.train(first).chunk());
        }
    }

    @Test
    void trainRefusesARepeatedChunkAndAnUnscoredOne() {
        try (Gpt model = model(); ScoreFirstTtt ttt = ttt(model, 0)) {
            ScoreReceipt unscored = new ScoreReceipt(0, new BitsPerByte.Totals(0, 0, 0), ttt.plan().windowsOf(0));
            assertEquals("chunk 0 is not scored yet; no scored chunk awaits training",
                    assertThrows(IllegalArgumentException.class, () -> ttt.train(unscored)).getMessage());
            ScoreReceipt first = ttt.score(0);
            ttt.train(first);
            assertEquals("chunk 0 is already trained on",
                    assertThrows(IllegalArgumentException.class, () -> ttt.train(first)).getMessage());
            ttt.score(1);
            assertEquals("chunk 0 is already trained on",
                    assertThrows(IllegalArgumentException.class, () -> ttt.train(first)).getMessage());
        }
    }

    @Test
    void theLastChunkIsScoredButNeverTrained() {
        try (Gpt model = model(); ScoreFirstTtt ttt = ttt(model, 0)) {
            ttt.train(ttt.score(0));
            ttt.train(ttt.score(1));
            ScoreReceipt last = ttt.score(2);
            assertEquals("chunk 2 is the last chunk, which is never trained on",
                    assertThrows(IllegalArgumentException.class, () -> ttt.train(last)).getMessage());
            assertEquals(true, ttt.finished());
            assertEquals("every chunk is scored",
                    assertThrows(IllegalStateException.class, ttt::nextChunkToScore).getMessage());
        }
    }

    @Test
    void scoringFollowsTheChunkOrderAndWaitsForTraining() {
        try (Gpt model = model(); ScoreFirstTtt ttt = ttt(model, 0)) {
            assertEquals("chunk 1 is out of order: the next chunk to score is 0",
                    assertThrows(IllegalStateException.class, () -> ttt.score(1)).getMessage());
            ttt.score(0);
            assertEquals("chunk 0 is scored but not trained on; train on it before scoring chunk 1",
                    assertThrows(IllegalStateException.class, () -> ttt.score(1)).getMessage());
        }
    }

    /** run() is the explicit steps in order: the same sums and the same weights, bit for bit. */
    @Test
    void runTakesTheStepsInOrder() {
        BitsPerByte.Totals stepped;
        Map<String, float[]> steppedWeights;
        List<Integer> trainedChunks = new ArrayList<>();
        try (Gpt model = model(); ScoreFirstTtt ttt = ttt(model, 0)) {
            BitsPerByte sums = new BitsPerByte(tables);
            while (!ttt.finished()) {
                ScoreReceipt receipt = ttt.score(ttt.nextChunkToScore());
                sums.merge(receipt.totals());
                if (!ttt.plan().isLast(receipt.chunk())) {
                    ChunkTraining training = ttt.train(receipt);
                    assertEquals(2, training.optimizerSteps());
                    // 4 sequences of 32 inputs from the chunk's first target, and the target after the last input.
                    int chunkStart = ttt.plan().chunkStart(receipt.chunk());
                    assertEquals(new TokenSpan(chunkStart, chunkStart + 4 * SEQ_LEN + 1), training.tokensRead());
                    trainedChunks.add(training.chunk());
                }
            }
            stepped = sums.totals();
            steppedWeights = model.parameters().valuesOnHost();
        }
        assertEquals(List.of(0, 1), trainedChunks);
        assertEquals(384, stepped.tokens());
        try (Gpt model = model(); ScoreFirstTtt ttt = ttt(model, 0)) {
            assertEquals(stepped, ttt.run());
            model.parameters().valuesOnHost().forEach((name, values) ->
                    assertArrayEquals(steppedWeights.get(name), values, 0f, name));
        }
    }

    /**
     * Frozen blocks keep their weights; the others train (a few scalars, such as a q_gain of 5, may move by less than
     * their float32 spacing, so the check is on the matrices).
     */
    @Test
    void frozenBlocksAreNotTrained() {
        try (Gpt model = model(); ScoreFirstTtt ttt = ttt(model, 2)) {
            Map<String, float[]> before = model.parameters().valuesOnHost();
            ttt.run();
            Map<String, float[]> after = model.parameters().valuesOnHost();
            List<String> trained = ttt.trainedParameters();
            for (String name : before.keySet()) {
                boolean frozen = name.contains("blocks.0.") || name.contains("blocks.1.");
                assertEquals(!frozen, trained.contains(name), name);
                boolean unchanged = Arrays.equals(before.get(name), after.get(name));
                if (frozen || name.endsWith(".weight")) {
                    assertEquals(frozen, unchanged, name + (unchanged ? " did not change" : " changed"));
                }
            }
        }
    }

    /** The clipped norm is the trained parameters' alone: a frozen block's gradient does not shrink the step. */
    @Test
    void frozenGradientsStayOutOfTheClippedNorm() {
        int frozenBlocks = 2;
        double allParameters;
        double trainedOnly;
        try (Gpt model = model()) {
            int[] inputs = IntStream.range(0, 4 * SEQ_LEN).map(tokens::get).toArray();
            int[] targets = IntStream.range(1, 4 * SEQ_LEN + 1).map(tokens::get).toArray();
            try (Tensor ids = backend.tensors().uploadInts(inputs, inputs.length);
                 Tensor next = backend.tensors().uploadInts(targets, targets.length)) {
                model.forwardBackward(ids, next, 4, SEQ_LEN, 1f);
            }
            double all = 0;
            double trainedSum = 0;
            for (Parameter p : model.parameters()) {
                double squares = backend.tensors().sumOfSquares(p.grad());
                all += squares;
                if (!p.name().contains("blocks.0.") && !p.name().contains("blocks.1.")) {
                    trainedSum += squares;
                }
            }
            allParameters = Math.sqrt(all);
            trainedOnly = Math.sqrt(trainedSum);
        }
        try (Gpt model = model(); ScoreFirstTtt ttt = ttt(model, frozenBlocks)) {
            double first = ttt.train(ttt.score(0)).gradNormsBeforeClip().getFirst();
            System.out.printf("ttt first-step gradient norm, blocks 0-1 frozen: %.9f (trained only %.9f, all %.9f)%n",
                    first, trainedOnly, allParameters);
            // The norm is kept on the device as a float32: equal to float32 precision.
            assertEquals(trainedOnly, first, 1e-6 * trainedOnly);
            assertTrue(allParameters - trainedOnly > 1e-3 * allParameters, "the frozen blocks must carry gradient");
        }
    }
}
