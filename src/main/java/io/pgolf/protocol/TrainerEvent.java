package io.pgolf.protocol;

/** What a Trainer tells its listeners: progress after each step, validation results, and its end. */
public sealed interface TrainerEvent extends PipelineMessage permits TrainerProgress, ValidationReport, TrainingFinished {
}
