package io.pgolf.actors;

import io.pgolf.data.bytes.BitsPerByte;
import io.pgolf.protocol.ChunkScored;
import io.pgolf.protocol.ChunkTrained;
import io.pgolf.protocol.RunKind;
import io.pgolf.protocol.TttFinished;
import io.pgolf.protocol.TttStarted;

import java.util.Locale;
import java.util.function.Consumer;

/**
 * What a TTT driver makes of its evaluator's answers: the receipts' sums, the chunks scored and trained on, progress
 * lines, and the final {@link TttFinished}, whose totals {@link BitsPerByte} computes so that they equal an engine
 * run's to the bit.
 */
final class TttTally {
    private final Consumer<String> log;
    private TttStarted started;
    private long startNanos;
    private double nats;
    private long tokens;
    private long bytes;
    private int chunksScored;
    private int chunksTrained;

    TttTally(Consumer<String> log) {
        this.log = log;
    }

    void started(TttStarted evaluation) {
        started = evaluation;
        startNanos = System.nanoTime();
        log.accept(String.format(Locale.ROOT, "TTT evaluation %s: %,d tokens in %d chunks (%s run)",
                evaluation.evaluationId(), evaluation.tokens(), evaluation.chunkCount(), describe(evaluation.runKind())));
    }

    void scored(ChunkScored receipt) {
        nats += receipt.nats();
        tokens += receipt.tokens();
        bytes += receipt.bytes();
        chunksScored++;
        log.accept(String.format(Locale.ROOT, "ttt chunk %d/%d scored: %d tokens, loss %.6f (weights version %d)",
                receipt.chunk() + 1, started.chunkCount(), receipt.tokens(), receipt.nats() / receipt.tokens(),
                receipt.weightsVersion()));
    }

    void trained(ChunkTrained trained) {
        chunksTrained++;
        log.accept(String.format(Locale.ROOT, "ttt chunk %d/%d trained: %d steps at lr %.6g, mean loss %.6f",
                trained.chunk() + 1, started.chunkCount(), trained.optimizerSteps(), trained.learningRate(),
                trained.meanLoss()));
    }

    TttFinished finished() {
        BitsPerByte.Totals totals = new BitsPerByte.Totals(nats, tokens, bytes);
        TttFinished finished = new TttFinished(started.evaluationId(), started.runKind(), totals.meanLoss(),
                totals.bitsPerByte(), tokens, bytes, chunksScored, chunksTrained,
                (System.nanoTime() - startNanos) / 1e9);
        log.accept(String.format(Locale.ROOT, "ttt: val_loss %.8f val_bpb %.8f over %,d tokens (%s run)",
                finished.valLoss(), finished.valBpb(), tokens, describe(started.runKind())));
        return finished;
    }

    private static String describe(RunKind kind) {
        return kind == RunKind.RECORD ? "record" : "non-record";
    }
}
