package io.pgolf.protocol;

import java.util.List;
import java.util.Objects;

/**
 * A run's prepare stage tokenized its corpus: {@code documents} documents ({@code textBytes} bytes of text) became
 * {@code valTokens} validation and {@code trainTokens} training tokens in {@code shards}, each with its SHA-256.
 */
public record DataPrepared(long documents, long textBytes, long valTokens, long trainTokens, List<InputFile> shards)
        implements PipelineMessage {
    public DataPrepared {
        Objects.requireNonNull(shards, "shards");
        shards = List.copyOf(shards);
        if (documents < 0 || textBytes < 0 || valTokens < 0 || trainTokens < 0) {
            throw new IllegalArgumentException("counts are not negative, got " + documents + " documents, "
                    + textBytes + " bytes, " + valTokens + " + " + trainTokens + " tokens");
        }
    }
}
