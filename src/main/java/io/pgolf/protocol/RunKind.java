package io.pgolf.protocol;

/**
 * Whether an evaluation may stand as a record. The wire writes the ordinal: never reorder, only append.
 */
public enum RunKind {
    /** The weights saw no validation token before scoring it: score-first TTT or none. */
    RECORD,
    /** The weights trained on validation tokens before they were scored (pre-quant TTT): never a record. */
    NON_RECORD
}
