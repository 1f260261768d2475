package io.pgolf.gpu.cuda;

import java.util.Locale;

/**
 * How each GEMM problem gets its algorithm: {@link #TIMED} times the heuristic's candidates on the problem's first
 * call (see {@link GemmPlan}), {@link #HEURISTIC} takes the heuristic's first choice, the same in every run. Set by
 * the environment variable {@value #VARIABLE} ({@code on}, the default, or {@code off}).
 */
enum GemmAlgorithmSelection {
    TIMED,
    HEURISTIC;

    static final String VARIABLE = "PGOLF_GEMM_AUTOTUNE";

    /** The selection for the variable's value (null when unset). */
    static GemmAlgorithmSelection of(String value) {
        if (value == null || value.isBlank()) {
            return TIMED;
        }
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "on", "1", "true" -> TIMED;
            case "off", "0", "false" -> HEURISTIC;
            default -> throw new IllegalArgumentException(VARIABLE + " must be on or off, got '" + value + "'");
        };
    }

    /** How many candidates to ask the heuristic for. */
    int candidatesRequested() {
        return this == TIMED ? 8 : 1;
    }
}
