package io.clrnn;

/**
 * The caller's mistake: a shape that does not fit the module, a file that is not what it claims,
 * a device that is not there. The message is one line, meant for the user as it is.
 */
public class InvalidInputException extends ClrnnException {
    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
