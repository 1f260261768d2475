package io.pgolf.protocol;

import java.util.List;

/** At least one instance of every message type, chosen to reach the edge cases of each field's encoding. */
final class MessageSamples {
    private MessageSamples() {
    }

    static List<PipelineMessage> all() {
        return List.of(
                new TokenizeBatch(0, 0, List.of()),
                new TokenizeBatch(1, 17, List.of("one document")),
                new TokenizeBatch(2, 18, List.of("", "two")),
                new TokenizeBatch(Long.MAX_VALUE, 1L << 40, List.of(
                        "ascii", "caf\u00e9 \u65e5\u672c \uD83D\uDE00 emoji", "lone \uD800 high", "lone \uDC00 low", "\u0000nul")),
                new TokenizedBatch(3, 20, List.of(), 0),
                new TokenizedBatch(4, 21, List.of(Tokens.of(5, 6, 7)), 11),
                new TokenizedBatch(5, 22, List.of(Tokens.of(), Tokens.of(0, 65535), Tokens.of(1024, 8191, 2)), 1L << 33),
                new BatchDemand(1),
                new BatchDemand(Integer.MAX_VALUE),
                new TrainBatch(0, 0, 0, 4, Tokens.of()),
                new TrainBatch(9, 3, 2, 3, Tokens.of(1, 2, 3, 4, 5, 6, 7, 65535)),
                new TrainerProgress(0, true, 1, 6.93, 1234.5, 1.0, 0.92, false, 0.0, 64),
                new TrainerProgress(7, false, 5088, Double.NaN, 965_000.25, 0.0, 0.99, true, 588.0, 1L << 42),
                new ValidationReport(0, false, 6.8, 5.8, 2048, 8831.0, 0.5),
                new ValidationReport(Long.MAX_VALUE, true, Double.MIN_VALUE, 1e-300, Long.MAX_VALUE, 1e300, 0.0),
                new TrainingFinished(0, 150, 12.5, 1_000_000, "iterations", "runs/x/weights.safetensors"),
                new TrainingFinished(3, 0, 0.0, 0, "", "caf\u00e9/\uD83D\uDE00.safetensors"),
                new TttStarted("e1", RunKind.RECORD, 2049, 1024, 32, 16, 512, 4, List.of(0, 1, 2, 3), 0),
                new TttStarted("", RunKind.NON_RECORD, Integer.MAX_VALUE, 8192, 2048, 64, 32768, 1, List.of(), Long.MAX_VALUE),
                new ScoreChunk("e1", 0),
                new ScoreChunk("\uD83D\uDE00", Integer.MAX_VALUE),
                firstReceipt(),
                new ChunkScored("e2", 3, true, 7, new ScoringMethod(false, 0),
                        List.of(new ScoredWindow(0, 0, 0, 0), new ScoredWindow(2016, 2048, 2033, 2049),
                                new ScoredWindow(Integer.MAX_VALUE, Integer.MAX_VALUE, 5, Integer.MAX_VALUE)),
                        Double.NaN, Long.MAX_VALUE, 0),
                new TrainOnChunk(firstReceipt()),
                new ChunkTrained("e1", 0, 0, 1, new TokenSpan(0, 513), 3, 24, 0.005, 6.385),
                new ChunkTrained("e1", 2, Long.MAX_VALUE, 0, new TokenSpan(7, 7), 0, 0, 0.0, Double.NaN),
                new Rejected("e1", new ScoreChunk("e0", 1), "request for evaluation e0, this evaluator runs e1"),
                new Rejected("e1", new TrainOnChunk(firstReceipt()), "chunk 0 is already trained on"),
                new TttFinished("e1", RunKind.RECORD, 6.76, 5.77, 2048, 3466, 4, 3, 9.5),
                new TttFinished("", RunKind.NON_RECORD, Double.POSITIVE_INFINITY, -0.0, 0, Long.MAX_VALUE, 0, 0, 0.0),
                new PrequantTttTrained(0, 1, new TokenSpan(0, 2049), 21, 42, 1e-3, 0, List.of(6.9, 6.1)),
                new PrequantTttTrained(Long.MAX_VALUE, 0, new TokenSpan(Integer.MAX_VALUE, Integer.MAX_VALUE), 0, 0,
                        0.0, 11, List.of()),
                new QuantizationDone(67, 58, 35_944_536, 64, 12.5, 30.25),
                new QuantizationDone(0, 0, 0, 0, 0.0, Double.MAX_VALUE),
                new ArtifactWritten("runs/x/final_model.artifact", "brotli", 15_975_827, 16_719, 16_000_000, 36_000_000,
                        0.5, 61.0, 0.01),
                new ArtifactWritten("", "zstd", 0, 0, 1, 0, 0.0, 0.0, 0.0),
                new ArtifactRefused("caf\u00e9.artifact", "lzma", 16_500_000, 200_000, 16_000_000,
                        "model bytes 16,500,000 + code bytes 200,000 exceed the budget"),
                new Evaluated(EvaluationMethod.PLAIN, 2048, 2048, 30, 2.85, 1.10, 61_440, 150_000, 8.0),
                new Evaluated(EvaluationMethod.SLIDING, 128, 64, Long.MAX_VALUE, Double.NaN, -0.0, 0, Long.MAX_VALUE, 0.0),
                new StageFinished("quantize", 12.5),
                new StageFinished("caf\u00e9", Double.MAX_VALUE),
                new RunStarted("0.1.0", "train --profile demo --val-tokens 1024", "model {\n  num-layers = 2\n}\n",
                        "cpu x2", 2, 1024, List.of(
                        new InputFile(InputRole.TRAIN_SHARD, "data/fineweb_train_000000.bin", 8_000_512, "0f".repeat(32)),
                        new InputFile(InputRole.VAL_SHARD, "data/fineweb_val_000000.bin", 3_892_658, "e0".repeat(32)),
                        new InputFile(InputRole.TOKENIZER, "caf\u00e9/fineweb_1024_bpe.model", 251_861, "7d".repeat(32)))),
                new RunStarted("", "", "", "", Integer.MAX_VALUE, Long.MAX_VALUE, List.of(
                        new InputFile(InputRole.DOCUMENTS, "", 0, ""),
                        new InputFile(InputRole.ARTIFACT, "a", Long.MAX_VALUE, "x"),
                        new InputFile(InputRole.JOURNAL, "run.journal", 1, "y"))),
                new DataPrepared(1250, 5_080_000, 147_464, 2_360_194, List.of(
                        new InputFile(InputRole.VAL_SHARD, "runs/demo/data/fineweb_val_000000.bin", 295_952, "ab".repeat(32)))),
                new DataPrepared(0, 0, 0, Long.MAX_VALUE, List.of()));
    }

    private static ChunkScored firstReceipt() {
        return new ChunkScored("e1", 0, false, 0, new ScoringMethod(true, 1024),
                List.of(new ScoredWindow(0, 32, 1, 33), new ScoredWindow(16, 48, 33, 49)), 101.5, 48, 80);
    }
}
