package io.pgolf.data.artifact;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class ByteShuffleTest {

    /** Expected bytes printed by the reference's {@code _byte_shuffle} (numpy) for these inputs. */
    @Test
    void matchesTheReferenceLayout() {
        assertArrayEquals(new byte[] {'B', 'S', 'H', 'F', 2, 0, 2, 4, 6, 1, 3, 5},
                ByteShuffle.shuffle(new byte[] {0, 1, 2, 3, 4, 5, 6}, 2));
        assertArrayEquals(new byte[] {'B', 'S', 'H', 'F', 3, 0, 3, 6, 1, 4, 7, 2, 5},
                ByteShuffle.shuffle(new byte[] {0, 1, 2, 3, 4, 5, 6, 7}, 3));
    }

    @Test
    void leavesDataShorterThanTheStrideOrWithoutHeaderAsTheReferenceDoes() {
        assertArrayEquals(new byte[] {9}, ByteShuffle.shuffle(new byte[] {9}, 2));
        assertArrayEquals(new byte[] {1, 2, 3}, ByteShuffle.shuffle(new byte[] {1, 2, 3}, 1));
        assertArrayEquals(new byte[] {'B', 'S', 'H', 'X', 2, 7}, ByteShuffle.unshuffle(new byte[] {'B', 'S', 'H', 'X', 2, 7}));
        assertArrayEquals(new byte[] {7, 8}, ByteShuffle.unshuffle(new byte[] {'B', 'S', 'H', 'F', 1, 7, 8}));
    }

    @Test
    void unshuffleInvertsShuffleForEveryLengthAndStride() {
        Random random = new Random(11);
        for (int stride = 2; stride <= 5; stride++) {
            for (int length = 0; length <= 40; length++) {
                byte[] data = new byte[length];
                random.nextBytes(data);
                assertArrayEquals(data, ByteShuffle.unshuffle(ByteShuffle.shuffle(data, stride)),
                        "stride " + stride + ", length " + length);
            }
        }
        byte[] large = new byte[1_000_003];
        random.nextBytes(large);
        assertArrayEquals(large, ByteShuffle.unshuffle(ByteShuffle.shuffle(large, 2)));
    }
}
