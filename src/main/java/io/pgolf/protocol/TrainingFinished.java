package io.pgolf.protocol;

/**
 * A Trainer's last word: training stopped after {@code steps} steps ({@code stopReason}: the step limit or the time
 * budget), the EMA weights were applied and written to {@code weightsFile} (safetensors, the reference's names).
 */
public record TrainingFinished(int rank, long steps, double trainSeconds, long tokensSeen, String stopReason,
                               String weightsFile) implements TrainerEvent {
}
