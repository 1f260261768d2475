package io.pgolf.data.artifact;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.decoder.Decoder;
import com.aayushatharva.brotli4j.encoder.Encoder;
import io.pgolf.config.Compressor;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Brotli through brotli4j's native library, with the reference's settings: {@code brotli.compress(data,
 * quality=11)}, whose other arguments default to generic mode and a 2^22-byte window (lgwin 22), set explicitly here.
 * On a record-size model the stream is byte for byte the one Python's brotli 1.2.0 writes.
 */
public record BrotliCodec() implements ArtifactCodec {
    static final int QUALITY = 11;
    static final int WINDOW_BITS = 22;

    @Override
    public Compressor compressor() {
        return Compressor.BROTLI;
    }

    @Override
    public byte[] compress(byte[] data) {
        ensureNativeLibrary();
        Encoder.Parameters parameters = new Encoder.Parameters()
                .setQuality(QUALITY).setWindow(WINDOW_BITS).setMode(Encoder.Mode.GENERIC);
        try {
            return Encoder.compress(data, parameters);
        } catch (IOException e) {
            throw new UncheckedIOException("brotli compression failed", e);
        }
    }

    @Override
    public byte[] decompress(byte[] data, int size) throws IOException {
        ensureNativeLibrary();
        return ArtifactCodec.requireSize(Compressor.BROTLI, Decoder.decompress(data, 0, data.length), size);
    }

    private static void ensureNativeLibrary() {
        if (!Brotli4jLoader.isAvailable()) {
            throw new IllegalStateException("brotli4j's native library did not load: "
                    + Brotli4jLoader.getUnavailabilityCause(), Brotli4jLoader.getUnavailabilityCause());
        }
    }
}
