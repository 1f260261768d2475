package io.pgolf.data.artifact;

import io.pgolf.model.quant.QuantizedModel;

import java.nio.file.Path;

/**
 * An artifact read back and checked.
 *
 * @param modelBytes        the file's size
 * @param decompressSeconds decompressing and unshuffling the payload
 */
public record LoadedArtifact(Path file, ArtifactHeader header, QuantizedModel model, long modelBytes,
                             double decompressSeconds) {
}
