package io.clrnn.format;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict parser for the Python literal in a .npy header. It accepts the subset of Python
 * literal syntax that numpy writes and {@code ast.literal_eval} reads back: dicts, tuples, lists,
 * quoted strings without escapes, decimal ints, True, False and None. Anything else is refused
 * rather than guessed at.
 */
final class NpyHeader {
    /** A Python tuple, kept apart from a list because numpy insists that the shape is a tuple. */
    record Tuple(List<Object> items) {}

    // Deeper nesting than this is never a real header; the limit keeps recursion bounded.
    private static final int MAX_DEPTH = 16;

    private final String text;
    private final String name;
    private int pos;

    private NpyHeader(String text, String name) {
        this.text = text;
        this.name = name;
    }

    /** Parses the whole header as one dict literal; surrounding whitespace (numpy's padding) is allowed. */
    static Map<String, Object> parseDict(String text, String name) {
        NpyHeader p = new NpyHeader(text, name);
        p.skipSpace();
        if (p.peek() != '{') {
            throw FormatException.of(name, "header is not a Python dict literal");
        }
        Object dict = p.value(0);
        p.skipSpace();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the dict");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> result = (Map<String, Object>) dict;
        return result;
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nested more than " + MAX_DEPTH + " levels deep");
        }
        skipSpace();
        char c = peek();
        if (c == '{') {
            return dict(depth);
        } else if (c == '(') {
            return tuple(depth);
        } else if (c == '[') {
            pos++;
            return new ArrayList<>(items(']', depth));
        } else if (c == '\'' || c == '"') {
            return string();
        } else if (c == '-' || isDigit(c)) {
            return integer();
        } else if (Character.isLetter(c)) {
            return word();
        }
        throw error(pos >= text.length() ? "unexpected end of header" : "unexpected character " + FormatException.quote(String.valueOf(c)));
    }

    private Map<String, Object> dict(int depth) {
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipSpace();
        while (peek() != '}') {
            Object key = value(depth + 1);
            if (!(key instanceof String k)) {
                throw error("dict key is not a string");
            }
            expect(':');
            Object v = value(depth + 1);
            // Python would keep the last value silently; two values for one key means a broken writer.
            if (map.containsKey(k)) {
                throw FormatException.of(name, "header has duplicate key " + FormatException.quote(k));
            }
            map.put(k, v);
            if (!comma('}')) {
                break;
            }
        }
        expect('}');
        return map;
    }

    private Object tuple(int depth) {
        pos++; // '('
        skipSpace();
        if (peek() == ')') {
            pos++;
            return new Tuple(List.of());
        }
        Object first = value(depth + 1);
        skipSpace();
        if (peek() == ')') {
            // "(5)" is just 5 in Python; only "(5,)" is a tuple.
            pos++;
            return first;
        }
        expect(',');
        List<Object> rest = items(')', depth);
        List<Object> all = new ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return new Tuple(all);
    }

    /** Comma-separated values up to {@code close}, a trailing comma allowed; the opener is consumed. */
    private List<Object> items(char close, int depth) {
        List<Object> out = new ArrayList<>();
        skipSpace();
        while (peek() != close) {
            out.add(value(depth + 1));
            if (!comma(close)) {
                break;
            }
        }
        expect(close);
        return out;
    }

    /** After an item: consumes a comma and says whether another item may follow. */
    private boolean comma(char close) {
        skipSpace();
        if (peek() == ',') {
            pos++;
            skipSpace();
            return peek() != close;
        }
        return false;
    }

    private String string() {
        char quote = text.charAt(pos++);
        int start = pos;
        while (pos < text.length() && text.charAt(pos) != quote) {
            char c = text.charAt(pos);
            if (c == '\\') {
                throw error("escape sequences in strings are not supported");
            }
            if (c == '\n' || c == '\r') {
                throw error("unterminated string");
            }
            pos++;
        }
        if (pos == text.length()) {
            throw error("unterminated string");
        }
        return text.substring(start, pos++);
    }

    private Long integer() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        int digits = pos;
        while (isDigit(peek())) {
            pos++;
        }
        String s = text.substring(start, pos);
        if (pos == digits) {
            throw error("'-' without digits");
        }
        // Python 3 refuses "007"; so do we.
        if (text.charAt(digits) == '0' && pos - digits > 1) {
            throw error("integer with leading zeros " + FormatException.quote(s));
        }
        if (Character.isLetterOrDigit(peek()) || peek() == '.') {
            throw error("not an integer: " + FormatException.quote(text.substring(start, Math.min(text.length(), pos + 1))));
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw error("integer " + FormatException.quote(s) + " is too large");
        }
    }

    private Object word() {
        int start = pos;
        while (Character.isLetterOrDigit(peek()) || peek() == '_') {
            pos++;
        }
        String w = text.substring(start, pos);
        switch (w) {
            case "True":
                return Boolean.TRUE;
            case "False":
                return Boolean.FALSE;
            case "None":
                return null;
            default:
                throw error("unexpected name " + FormatException.quote(w));
        }
    }

    private void expect(char c) {
        skipSpace();
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private void skipSpace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    /** The next character, or 0 at the end (a NUL inside the header is refused where it appears). */
    private char peek() {
        return pos < text.length() ? text.charAt(pos) : 0;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private FormatException error(String what) {
        return FormatException.of(name, "header is not a valid Python literal: " + what + " at offset " + pos);
    }
}
