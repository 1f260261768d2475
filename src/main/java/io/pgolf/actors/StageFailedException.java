package io.pgolf.actors;

/** A stage of a run failed; the stages after it did not start. */
public final class StageFailedException extends RuntimeException {
    private final String stage;

    public StageFailedException(String stage, Throwable cause) {
        super("stage " + stage + " failed: " + cause.getMessage(), cause);
        this.stage = stage;
    }

    public String stage() {
        return stage;
    }
}
