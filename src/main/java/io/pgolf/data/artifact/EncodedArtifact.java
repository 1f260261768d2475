package io.pgolf.data.artifact;

import io.pgolf.config.Compressor;
import io.pgolf.model.quant.QuantizedModel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * An artifact file's bytes, built in memory (see {@link ArtifactFormat}), with the time each stage took.
 * {@code bytes} is owned by the record; callers must not modify it.
 *
 * @param serializeSeconds writing the model's bytes and shuffling them
 * @param compressSeconds  compressing the shuffled bytes
 */
public record EncodedArtifact(byte[] bytes, ArtifactHeader header, double serializeSeconds, double compressSeconds) {

    /** Serializes, shuffles and compresses {@code model}, and frames it with its header. */
    public static EncodedArtifact encode(QuantizedModel model, ArchitectureKnobs architecture, Compressor compressor) {
        long start = System.nanoTime();
        byte[] raw = QuantizedModelBytes.encode(model);
        byte[] shuffled = ByteShuffle.shuffle(raw, ArtifactFormat.SHUFFLE_STRIDE);
        long serialized = System.nanoTime();
        byte[] payload = ArtifactCodec.of(compressor).compress(shuffled);
        long compressed = System.nanoTime();
        ArtifactHeader header = new ArtifactHeader(compressor, raw.length,
                shuffled.length, payload.length, sha256(payload), architecture);
        byte[] json = header.toJson();
        CRC32C crc = new CRC32C();
        crc.update(json);
        ByteBuffer file = ByteBuffer.allocate(Math.addExact(ArtifactFormat.PREFIX_BYTES + json.length, payload.length))
                .order(ByteOrder.LITTLE_ENDIAN);
        file.put(ArtifactFormat.MAGIC).putInt(ArtifactFormat.VERSION).putInt(json.length).putInt((int) crc.getValue())
                .put(json).put(payload);
        return new EncodedArtifact(file.array(), header, (serialized - start) / 1e9, (compressed - serialized) / 1e9);
    }

    /** The artifact's model bytes: the whole file. */
    public long modelBytes() {
        return bytes.length;
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
