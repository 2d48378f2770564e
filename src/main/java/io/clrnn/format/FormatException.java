package io.clrnn.format;

import io.clrnn.InvalidInputException;

/** A file that is not what it claims to be: bad magic, a lying header, a dtype clrnn cannot read. */
public class FormatException extends InvalidInputException {
    private static final int QUOTE_LIMIT = 60;

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

    /**
     * Quotes text taken from a file for a message: control characters escaped and long text cut, so a
     * hostile file cannot turn a one-line message into many lines or megabytes.
     */
    public static String quote(String s) {
        return "'" + plain(s) + "'";
    }

    /** As {@link #quote} without the quotes: for names that read as words, an operator's say. */
    public static String plain(String s) {
        StringBuilder b = new StringBuilder();
        int n = Math.min(s.length(), QUOTE_LIMIT);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isISOControl(c) || Character.getType(c) == Character.LINE_SEPARATOR
                    || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (s.length() > n) {
            b.append("...");
        }
        return b.toString();
    }

    // The last guard for the one-line promise, for messages built from others' text (Jackson's).
    private static String oneLine(String message) {
        return message == null ? "invalid file" : message.replaceAll("[\\r\\n\\u2028\\u2029\\u0085]+", " ");
    }
}
