package io.pgolf.protocol;

import java.util.List;

/**
 * Documents for a Tokenizer worker. {@code firstDoc} is the 0-based index of the first document in the
 * corpus, so that results can be put back in corpus order.
 */
public record TokenizeBatch(long batchSeq, long firstDoc, List<String> texts) implements PipelineMessage {
    public TokenizeBatch {
        texts = List.copyOf(texts);
    }
}
