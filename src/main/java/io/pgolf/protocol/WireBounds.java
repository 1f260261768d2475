package io.pgolf.protocol;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;

/** Checks a decoded length against the bytes left, so that a corrupt length fails before it allocates. */
final class WireBounds {
    private WireBounds() {
    }

    /**
     * Fails unless {@code bytes} more bytes remain. Only valid for inputs over a whole byte array, which is how
     * {@link MessageSerializer} decodes.
     */
    static void requireRemaining(Input input, long bytes, String what) {
        int remaining = input.limit() - input.position();
        if (bytes < 0 || bytes > remaining) {
            throw new KryoException(what + " needs " + bytes + " bytes at position " + input.position()
                    + " but only " + remaining + " remain");
        }
    }
}
