package io.pgolf.config;

/** The compute backend, written in lower case in the configuration. */
public enum BackendKind {
    CPU,
    CUDA
}
