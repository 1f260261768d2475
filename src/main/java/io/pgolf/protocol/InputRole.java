package io.pgolf.protocol;

/** What a file a run reads is to it ({@link InputFile}). */
public enum InputRole {
    /** A training shard (fineweb_train_*.bin) of the run's rank. */
    TRAIN_SHARD,
    /** A validation shard (fineweb_val_*.bin). */
    VAL_SHARD,
    /** The SentencePiece model. */
    TOKENIZER,
    /** The JSONL corpus a run tokenized into its shards first. */
    DOCUMENTS,
    /** The artifact an evaluation scored. */
    ARTIFACT,
    /** The journal a replay re-drove. */
    JOURNAL
}
