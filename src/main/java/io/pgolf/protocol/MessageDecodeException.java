package io.pgolf.protocol;

/** Bytes that are not one whole, valid serialized message; no part of a message is ever returned from them. */
public final class MessageDecodeException extends RuntimeException {
    public MessageDecodeException(String message, Throwable cause) {
        super(message, cause);
    }

    public MessageDecodeException(String message) {
        super(message);
    }
}
