package io.pgolf.protocol;

/**
 * An artifact was not written to {@code file} because {@code modelBytes + codeBytes} exceeds {@code budgetBytes};
 * {@code reason} is the message for the user.
 */
public record ArtifactRefused(String file, String compressor, long modelBytes, long codeBytes, long budgetBytes,
                              String reason) implements ArtifactEvent {
}
