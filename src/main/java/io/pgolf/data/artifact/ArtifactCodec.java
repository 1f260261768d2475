package io.pgolf.data.artifact;

import io.pgolf.config.Compressor;

import java.io.IOException;

/** One of the artifact's compressors: its settings are part of the format, so they are fixed here, not knobs. */
public sealed interface ArtifactCodec permits BrotliCodec, LzmaCodec, ZstdCodec {

    /** The codec that {@code compressor} names. */
    static ArtifactCodec of(Compressor compressor) {
        return switch (compressor) {
            case BROTLI -> new BrotliCodec();
            case LZMA -> new LzmaCodec();
            case ZSTD -> new ZstdCodec();
        };
    }

    Compressor compressor();

    byte[] compress(byte[] data);

    /**
     * Decompresses a whole stream that must yield exactly {@code size} bytes.
     *
     * @throws IOException when the stream is corrupt or yields another number of bytes
     */
    byte[] decompress(byte[] data, int size) throws IOException;

    /** The common check of {@link #decompress}'s result. */
    static byte[] requireSize(Compressor compressor, byte[] out, int size) throws IOException {
        if (out.length != size) {
            throw new IOException(ArtifactHeader.name(compressor) + " stream decompressed to "
                    + out.length + " bytes, expected " + size);
        }
        return out;
    }
}
