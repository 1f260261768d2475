package io.pgolf.data.artifact;

import java.nio.file.Path;

/**
 * The challenge's size rule: an artifact's model bytes plus the code bytes ({@link CodeBytes}) must not exceed
 * {@code budgetBytes} (16,000,000 in the challenge, decimal).
 */
public record ArtifactBudget(long budgetBytes, long codeBytes) {
    /** The challenge's limit; an artifact above it cannot stand as a record whatever ARTIFACT_BUDGET_BYTES allows. */
    public static final long CHALLENGE_BYTES = 16_000_000L;
    public ArtifactBudget {
        if (budgetBytes <= 0 || codeBytes < 0) {
            throw new IllegalArgumentException("budget " + budgetBytes + " and code bytes " + codeBytes
                    + " must be positive and non-negative");
        }
    }

    public long totalBytes(long modelBytes) {
        return modelBytes + codeBytes;
    }

    /** @throws ArtifactOverBudgetException naming {@code target} and both numbers when the total is over */
    public void requireFits(Path target, long modelBytes) {
        long total = totalBytes(modelBytes);
        if (total > budgetBytes) {
            throw new ArtifactOverBudgetException(String.format(
                    "%s: artifact refused, nothing written: model bytes %,d + code bytes %,d = %,d exceed the budget "
                            + "of %,d bytes by %,d", target, modelBytes, codeBytes, total, budgetBytes,
                    total - budgetBytes));
        }
    }
}
