package io.pgolf.protocol;

/**
 * One micro-batch for one rank: {@code rows} windows of {@code seqLen + 1} tokens laid end to end.
 * Row r's inputs are window[r][0..seqLen) and its targets window[r][1..seqLen].
 */
public record TrainBatch(long index, int rank, int rows, int seqLen, Tokens windows) implements PipelineMessage {
    public TrainBatch {
        if ((long) rows * (seqLen + 1) != windows.length()) {
            throw new IllegalArgumentException(
                    "windows holds " + windows.length() + " tokens, expected rows*(seqLen+1) = " + (long) rows * (seqLen + 1));
        }
    }

    public int input(int row, int pos) {
        return windows.get(row * (seqLen + 1) + pos);
    }

    public int target(int row, int pos) {
        return windows.get(row * (seqLen + 1) + pos + 1);
    }
}
