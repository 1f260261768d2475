package io.pgolf.protocol;

import java.util.Objects;

/** A stage of a run ended successfully after {@code seconds} of wall time; the run's next stage starts after it. */
public record StageFinished(String stage, double seconds) implements PipelineMessage {
    public StageFinished {
        Objects.requireNonNull(stage, "stage");
    }
}
