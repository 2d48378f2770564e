package io.clrnn.format;

import io.clrnn.base.InvalidInputException;

/**
 * A file that is not what it claims to be: bad magic, a lying header, a dtype clrnn cannot read. Text taken
 * from the file goes into its message through {@link #quote} and {@link #plain} (inherited).
 */
public class FormatException extends InvalidInputException {
    public FormatException(String message) {
        super(oneLine(message));
    }

    public FormatException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** {@code "x.npy: detail"}, or just the detail when there is no name to give. */
    static FormatException of(String name, String detail) {
        return new FormatException(name == null || name.isEmpty() ? detail : name + ": " + detail);
    }

    // The last guard for the one-line promise, for messages built from others' text (Jackson's).
    private static String oneLine(String message) {
        return message == null ? "invalid file" : message.replaceAll("[\\r\\n\\u2028\\u2029\\u0085]+", " ");
    }
}
