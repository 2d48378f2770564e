package io.clrnn.onnx;

/** Names taken from a model, made safe for a one-line message. */
final class Text {
    private static final int QUOTE_LIMIT = 60;

    private Text() {}

    /** {@code 'name'}, control characters escaped and long names cut, so a hostile file cannot break the line. */
    static String quote(String s) {
        return "'" + plain(s) + "'";
    }

    /** As {@link #quote} without the quotes: for names that read as words, an operator's say. */
    static String plain(String s) {
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
