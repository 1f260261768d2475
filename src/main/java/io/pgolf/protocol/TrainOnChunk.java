package io.pgolf.protocol;

import java.util.Objects;

/**
 * Asks a TTT evaluator to train on a chunk it has scored. Its one component is that chunk's receipt: there is no
 * training request without a receipt, and none that names a chunk, an evaluation or tokens other than its
 * receipt's. A receipt of the last chunk makes none: the last chunk is never trained on.
 *
 * <p>A record's canonical constructor is public, so a receipt can be invented; what makes it proof is the evaluator,
 * which accepts only the receipt it issued last, once.
 */
public record TrainOnChunk(ChunkScored receipt) implements TttRequest {
    public TrainOnChunk {
        Objects.requireNonNull(receipt, "receipt");
        if (receipt.lastChunk()) {
            throw new IllegalArgumentException("chunk " + receipt.chunk() + " is the last chunk, which is never"
                    + " trained on");
        }
    }

    @Override
    public String evaluationId() {
        return receipt.evaluationId();
    }

    @Override
    public int chunk() {
        return receipt.chunk();
    }
}
