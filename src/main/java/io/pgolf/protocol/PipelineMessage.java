package io.pgolf.protocol;

/** Every message exchanged between pgolf's actors; each one is an immutable record registered with Kryo. */
public interface PipelineMessage {
}
