package io.pgolf.gpu;

/** Element types a backend stores. Activations and weights use the backend's choice; token ids are I32. */
public enum DType {
    F32(4),
    BF16(2),
    I32(4);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }
}
