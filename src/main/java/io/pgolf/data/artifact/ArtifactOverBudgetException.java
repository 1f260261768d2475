package io.pgolf.data.artifact;

/** An artifact whose model and code bytes together exceed the budget; it was not written. */
public final class ArtifactOverBudgetException extends RuntimeException {
    public ArtifactOverBudgetException(String message) {
        super(message);
    }
}
