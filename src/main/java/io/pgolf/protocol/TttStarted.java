package io.pgolf.protocol;

import java.util.List;
import java.util.Objects;

/**
 * A TTT evaluation's first word: its id (random, fresh for each evaluation; every later message of the evaluation
 * carries it), whether it may stand as a record, the validation tokens it scores ({@code tokens}, of which tokens 1
 * to tokens - 1 are targets), the vocabulary, the window and chunk geometry, the chunks that hold windows in the
 * order they will be scored, and the version of the weights it starts from.
 *
 * <p>Weights versions count trainings on validation tokens: version 0 never trained on one, and each training
 * message ({@link ChunkTrained}, {@link PrequantTttTrained}) names the version it started from and the one it made.
 */
public record TttStarted(String evaluationId, RunKind runKind, int tokens, int vocabSize, int seqLen, int stride,
                         int chunkTokens, int chunkCount, List<Integer> scoredChunks, long weightsVersion)
        implements TttEvent {
    public TttStarted {
        Objects.requireNonNull(evaluationId, "evaluationId");
        Objects.requireNonNull(runKind, "runKind");
        scoredChunks = List.copyOf(scoredChunks);
        if (tokens < 2 || vocabSize <= 0 || seqLen <= 0 || stride <= 0 || chunkTokens <= 0 || chunkCount <= 0
                || weightsVersion < 0) {
            throw new IllegalArgumentException("an evaluation needs at least 2 tokens, positive sizes and a"
                    + " non-negative weights version, got tokens " + tokens + ", vocab " + vocabSize + ", seqLen "
                    + seqLen + ", stride " + stride + ", chunkTokens " + chunkTokens + ", chunks " + chunkCount
                    + ", version " + weightsVersion);
        }
    }
}
