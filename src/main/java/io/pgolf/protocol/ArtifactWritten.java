package io.pgolf.protocol;

/**
 * An artifact was written to {@code file}, within the size budget: {@code modelBytes} (the file) plus
 * {@code codeBytes} (pgolf's own code, compressed) is at most {@code budgetBytes}.
 *
 * @param compressor       brotli, lzma or zstd
 * @param serializedBytes  the quantized model's bytes before shuffle and compression
 * @param serializeSeconds serializing and shuffling
 * @param compressSeconds  compressing
 * @param writeSeconds     writing the file and renaming it into place
 */
public record ArtifactWritten(String file, String compressor, long modelBytes, long codeBytes, long budgetBytes,
                              long serializedBytes, double serializeSeconds, double compressSeconds,
                              double writeSeconds) implements ArtifactEvent {
    public long totalBytes() {
        return modelBytes + codeBytes;
    }
}
