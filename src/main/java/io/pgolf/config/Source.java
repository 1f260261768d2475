package io.pgolf.config;

/** Where a setting's value came from, lowest precedence first. */
public enum Source {
    DEFAULT("default"),
    PROFILE("profile"),
    FILE("file"),
    ENV("env"),
    SET("--set");

    private final String label;

    Source(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
