package io.clrnn.base;

/** Base of every exception clrnn throws on purpose; anything else escaping is a bug. */
public class ClrnnException extends RuntimeException {
    public ClrnnException(String message) {
        super(message);
    }

    public ClrnnException(String message, Throwable cause) {
        super(message, cause);
    }
}
