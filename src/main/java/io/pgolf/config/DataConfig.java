package io.pgolf.config;

import java.nio.file.Path;
import java.util.List;

/** Where the data lives and how it is split: {@code pgolf.data}. */
public record DataConfig(Path dataDir, int vocabSize, int numValDocs, int shardTokens) {

    static DataConfig read(KnobReader r) {
        return new DataConfig(r.path("data.data-dir"), r.integer("data.vocab-size"), r.integer("data.num-val-docs"),
                r.integer("data.shard-tokens"));
    }

    /** {@code DATA_DIR/datasets/fineweb10B_sp{V}}, as the reference lays it out. */
    public Path datasetDir() {
        return dataDir.resolve("datasets").resolve("fineweb10B_sp" + vocabSize);
    }

    /** {@code DATA_DIR/tokenizers/fineweb_{V}_bpe.model}. */
    public Path tokenizerFile() {
        return dataDir.resolve("tokenizers").resolve("fineweb_" + vocabSize + "_bpe.model");
    }

    /** Fails, naming VOCAB_SIZE, the tokenizer and both sizes, unless the tokenizer has exactly vocab-size pieces. */
    public void requireVocabMatches(int tokenizerVocab, Path tokenizerFile) {
        if (tokenizerVocab != vocabSize) {
            throw new ConfigException(List.of(ConfigProblem.of(Knob.of("data.vocab-size"),
                    "is " + vocabSize + " but tokenizer " + tokenizerFile + " has " + tokenizerVocab + " pieces")));
        }
    }
}
