package io.pgolf.protocol;

import java.util.List;

/** The ids of each document of a {@link TokenizeBatch}, in the same order (without BOS). */
public record TokenizedBatch(long batchSeq, long firstDoc, List<Tokens> docs, long utf8Bytes) implements PipelineMessage {
    public TokenizedBatch {
        docs = List.copyOf(docs);
    }
}
