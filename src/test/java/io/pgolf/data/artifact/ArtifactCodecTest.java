package io.pgolf.data.artifact;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import io.pgolf.config.Compressor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArtifactCodecTest {

    /** Shuffled int6-like codes: small values, so every compressor must shrink them well below a byte each. */
    private static byte[] codeLikeBytes(int n) {
        Random random = new Random(5);
        byte[] codes = new byte[n];
        for (int i = 0; i < n; i++) {
            codes[i] = (byte) Math.round(random.nextGaussian() * 2.4);
        }
        return ByteShuffle.shuffle(codes, 2);
    }

    @Test
    void brotliNativeLibraryLoads() {
        assertTrue(Brotli4jLoader.isAvailable(), () -> "brotli4j: " + Brotli4jLoader.getUnavailabilityCause());
    }

    @ParameterizedTest
    @EnumSource(Compressor.class)
    void roundTripsAndCompresses(Compressor compressor) throws IOException {
        ArtifactCodec codec = ArtifactCodec.of(compressor);
        assertEquals(compressor, codec.compressor());
        byte[] data = codeLikeBytes(200_000);
        byte[] packed = codec.compress(data);
        assertTrue(packed.length < data.length / 2, compressor + ": " + packed.length + " of " + data.length + " bytes");
        assertArrayEquals(data, codec.decompress(packed, data.length));
        assertArrayEquals(new byte[0], codec.decompress(codec.compress(new byte[0]), 0));
    }

    @ParameterizedTest
    @EnumSource(Compressor.class)
    void refusesACorruptStreamOrAnotherSize(Compressor compressor) {
        ArtifactCodec codec = ArtifactCodec.of(compressor);
        byte[] data = codeLikeBytes(50_000);
        byte[] packed = codec.compress(data);
        IOException wrongSize = assertThrows(IOException.class, () -> codec.decompress(packed, data.length - 1));
        assertTrue(wrongSize.getMessage().contains(String.valueOf(data.length - 1)), wrongSize.getMessage());
        byte[] cut = Arrays.copyOf(packed, packed.length / 2);
        assertThrows(IOException.class, () -> codec.decompress(cut, data.length));
    }

    /** The window (lgwin) is in the stream's first bits: WBITS 22 is the bit 1 then 22 - 17 = 5 in three bits. */
    @Test
    void brotliUsesTheReferenceWindowOf22Bits() {
        byte[] packed = ArtifactCodec.of(Compressor.BROTLI).compress(new byte[1 << 23]);
        assertEquals(0b1011, packed[0] & 0x0F);
    }

    /** The XZ stream header's flags name the check: 0x04 is CRC64, as Python's lzma writes by default. */
    @Test
    void lzmaWritesAnXzStreamWithCrc64() {
        byte[] packed = ArtifactCodec.of(Compressor.LZMA).compress(codeLikeBytes(1000));
        assertArrayEquals(new byte[] {(byte) 0xFD, '7', 'z', 'X', 'Z', 0}, Arrays.copyOf(packed, 6));
        assertEquals(0x04, packed[7]);
    }
}
