package io.pgolf.protocol;

/** How an evaluation without test-time training places its windows (STACK §6). The wire writes the ordinal: only append. */
public enum EvaluationMethod {
    /** Non-overlapping windows of EVAL_SEQ_LEN: a target's context is the window's tokens before it. */
    PLAIN,
    /** Windows every EVAL_STRIDE tokens, each scoring only its last EVAL_STRIDE targets (the first window all of them). */
    SLIDING
}
