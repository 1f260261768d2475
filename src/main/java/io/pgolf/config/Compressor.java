package io.pgolf.config;

/** The artifact's compressor, written in lower case in the configuration. */
public enum Compressor {
    BROTLI,
    LZMA,
    ZSTD
}
