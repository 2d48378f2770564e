package io.clrnn.base;

/**
 * The caller's mistake: a shape that does not fit the module, a file that is not what it claims,
 * a device that is not there. The message is one line, meant for the user as it is.
 */
public class InvalidInputException extends ClrnnException {
    private static final int QUOTE_LIMIT = 60;

    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * Quotes text taken from a file or a request for a message: control characters escaped and long text
     * cut, so a hostile file cannot turn a one-line message into many lines or megabytes.
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
}
