package io.pgolf.data.artifact;

import io.pgolf.model.quant.QuantizedModel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Reads an artifact ({@link ArtifactFormat}), refusing with an {@link ArtifactFormatException} that names the file
 * and the problem: another magic, another format version, a truncated file or trailing bytes, a header or payload
 * whose checksum does not match, an unknown compressor, a payload that does not decompress to the stated size, or
 * model bytes that do not follow {@link QuantizedModelBytes}.
 */
public final class ArtifactReader {
    private ArtifactReader() {
    }

    public static LoadedArtifact read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such artifact file");
        }
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = ArtifactFormat.MAGIC;
        if (bytes.length < magic.length && Arrays.equals(bytes, 0, bytes.length, magic, 0, bytes.length)) {
            throw new ArtifactFormatException(file, "truncated: " + bytes.length + " bytes, fewer than the magic's " + magic.length);
        }
        if (bytes.length < magic.length || !Arrays.equals(bytes, 0, magic.length, magic, 0, magic.length)) {
            throw new ArtifactFormatException(file, "bad magic: the file does not start with \"PGOLFART\"");
        }
        if (bytes.length < ArtifactFormat.PREFIX_BYTES) {
            throw new ArtifactFormatException(file, "truncated: " + bytes.length + " bytes, fewer than the "
                    + ArtifactFormat.PREFIX_BYTES + "-byte prefix");
        }
        int version = in.getInt(ArtifactFormat.VERSION_OFFSET);
        if (version != ArtifactFormat.VERSION) {
            throw new ArtifactFormatException(file, "format version " + Integer.toUnsignedString(version)
                    + ", this pgolf reads version " + ArtifactFormat.VERSION);
        }
        long headerLength = Integer.toUnsignedLong(in.getInt(ArtifactFormat.HEADER_LENGTH_OFFSET));
        if (ArtifactFormat.PREFIX_BYTES + headerLength > bytes.length) {
            throw new ArtifactFormatException(file, "truncated: the header of " + headerLength
                    + " bytes does not fit the file's " + bytes.length + " bytes");
        }
        byte[] json = Arrays.copyOfRange(bytes, ArtifactFormat.PREFIX_BYTES, ArtifactFormat.PREFIX_BYTES + (int) headerLength);
        CRC32C crc = new CRC32C();
        crc.update(json);
        int storedCrc = in.getInt(ArtifactFormat.HEADER_CRC_OFFSET);
        if ((int) crc.getValue() != storedCrc) {
            throw new ArtifactFormatException(file, String.format("header checksum mismatch: CRC32C %08x, stored %08x",
                    (int) crc.getValue(), storedCrc));
        }
        ArtifactHeader header;
        try {
            header = ArtifactHeader.parse(json);
        } catch (IllegalArgumentException e) {
            throw new ArtifactFormatException(file, e.getMessage(), e);
        }
        int payloadStart = ArtifactFormat.PREFIX_BYTES + (int) headerLength;
        long expectedSize = (long) payloadStart + header.payloadBytes();
        if (bytes.length < expectedSize) {
            throw new ArtifactFormatException(file, "truncated: " + bytes.length + " bytes, the header promises "
                    + expectedSize);
        }
        if (bytes.length > expectedSize) {
            throw new ArtifactFormatException(file, (bytes.length - expectedSize) + " bytes follow the payload");
        }
        byte[] payload = Arrays.copyOfRange(bytes, payloadStart, bytes.length);
        String sha256 = EncodedArtifact.sha256(payload);
        if (!sha256.equals(header.payloadSha256())) {
            throw new ArtifactFormatException(file, "payload checksum mismatch: SHA-256 " + sha256 + ", header says "
                    + header.payloadSha256());
        }
        long start = System.nanoTime();
        QuantizedModel model = decode(file, header, payload);
        return new LoadedArtifact(file, header, model, bytes.length, (System.nanoTime() - start) / 1e9);
    }

    private static QuantizedModel decode(Path file, ArtifactHeader header, byte[] payload) throws ArtifactFormatException {
        byte[] shuffled;
        try {
            shuffled = ArtifactCodec.of(header.compressor()).decompress(payload, header.uncompressedBytes());
        } catch (IOException e) {
            throw new ArtifactFormatException(file, "payload does not decompress: " + e.getMessage(), e);
        }
        byte[] raw = ByteShuffle.unshuffle(shuffled);
        if (raw.length != header.modelBytes()) {
            throw new ArtifactFormatException(file, "payload unshuffles to " + raw.length + " bytes, the header says "
                    + header.modelBytes());
        }
        try {
            return QuantizedModelBytes.decode(raw);
        } catch (IllegalArgumentException e) {
            throw new ArtifactFormatException(file, e.getMessage(), e);
        }
    }
}
