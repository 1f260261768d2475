package io.pgolf.data.artifact;

import java.nio.charset.StandardCharsets;

/**
 * The artifact file, version {@value #VERSION}, little-endian:
 *
 * <pre>
 * offset 0   8 bytes  magic "PGOLFART"
 *        8   u32      format version
 *        12  u32      header length H
 *        16  u32      CRC32C of the header bytes
 *        20  H bytes  header: UTF-8 JSON ({@link ArtifactHeader}): compressor, sizes, SHA-256 of the payload,
 *                     the architecture knobs
 *        20+H         payload: compress(ByteShuffle.shuffle(QuantizedModelBytes.encode(model), 2))
 * </pre>
 *
 * The file's whole size counts as the artifact's model bytes.
 */
public final class ArtifactFormat {
    static final byte[] MAGIC = "PGOLFART".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 1;
    static final int PREFIX_BYTES = MAGIC.length + 4 + 4 + 4;
    static final int VERSION_OFFSET = MAGIC.length;
    static final int HEADER_LENGTH_OFFSET = VERSION_OFFSET + 4;
    static final int HEADER_CRC_OFFSET = HEADER_LENGTH_OFFSET + 4;
    /** The reference's stride: float16 low bytes, then high bytes. */
    static final int SHUFFLE_STRIDE = 2;

    private ArtifactFormat() {
    }
}
