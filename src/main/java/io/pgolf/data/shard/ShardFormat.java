package io.pgolf.data.shard;

import java.nio.ByteOrder;

/** Constants of the challenge's shard layout: a 256 x int32 header, then uint16 tokens, all little-endian. */
final class ShardFormat {
    static final int MAGIC = 20240520;
    static final int VERSION = 1;
    static final int HEADER_INTS = 256;
    static final int HEADER_BYTES = HEADER_INTS * Integer.BYTES;
    static final int TOKEN_BYTES = Character.BYTES;
    static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private ShardFormat() {
    }

    static long fileSize(long tokenCount) {
        return HEADER_BYTES + TOKEN_BYTES * tokenCount;
    }
}
