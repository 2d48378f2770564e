package io.clrnn.generate;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.clrnn.base.InvalidInputException;
import io.clrnn.format.FormatException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A language model's tokens by id, from a JSON file: an array indexed by id ({@code ["a", "b", ...]}), or an object
 * token to id ({@code {"a": 0, "b": 1}}) whose ids are 0..n-1, each once. Text is cut into tokens by longest match,
 * so a character vocabulary reads text a character at a time.
 */
public final class Vocabulary {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    /** A vocabulary file is a list of tokens: a file larger than this is not one. */
    private static final long MAX_BYTES = 64L << 20;

    private final List<String> tokens;
    private final Map<String, Integer> ids = new HashMap<>();
    private final int longest;

    private Vocabulary(List<String> tokens, String file) {
        if (tokens.isEmpty()) {
            throw new FormatException(file + ": the vocabulary is empty");
        }
        this.tokens = List.copyOf(tokens);
        int max = 0;
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (t.isEmpty()) {
                throw new FormatException(file + ": token " + i + " is the empty string");
            }
            if (ids.putIfAbsent(t, i) != null) {
                throw new FormatException(file + ": token " + FormatException.quote(t) + " has two ids, "
                        + ids.get(t) + " and " + i);
            }
            max = Math.max(max, t.length());
        }
        this.longest = max;
    }

    /** The tokens in id order. */
    public static Vocabulary of(List<String> tokens) {
        return new Vocabulary(tokens, "vocabulary");
    }

    public static Vocabulary read(Path path) throws IOException {
        String file = String.valueOf(path);
        if (java.nio.file.Files.size(path) > MAX_BYTES) {
            throw new FormatException(file + ": " + java.nio.file.Files.size(path) + " bytes is more than a vocabulary "
                    + "takes (" + (MAX_BYTES >> 20) + " MiB)");
        }
        byte[] bytes = java.nio.file.Files.readAllBytes(path);
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JacksonException e) {
            throw new FormatException(file + ": not a JSON vocabulary: " + e.getOriginalMessage());
        }
        List<String> tokens = new ArrayList<>();
        if (root != null && root.isArray()) {
            for (int i = 0; i < root.size(); i++) {
                if (!root.get(i).isTextual()) {
                    throw new FormatException(file + ": entry " + i + " of the vocabulary array is not a string");
                }
                tokens.add(root.get(i).asText());
            }
        } else if (root != null && root.isObject()) {
            String[] byId = new String[root.size()];
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode id = e.getValue();
                if (!id.canConvertToInt() || !id.isIntegralNumber() || id.asInt() < 0 || id.asInt() >= byId.length) {
                    throw new FormatException(file + ": token " + FormatException.quote(e.getKey()) + " has id " + id
                            + "; the ids of " + byId.length + " tokens are 0.." + (byId.length - 1));
                }
                if (byId[id.asInt()] != null) {
                    throw new FormatException(file + ": id " + id.asInt() + " is given to "
                            + FormatException.quote(byId[id.asInt()]) + " and " + FormatException.quote(e.getKey()));
                }
                byId[id.asInt()] = e.getKey();
            }
            tokens.addAll(List.of(byId));
        } else {
            throw new FormatException(file + ": a vocabulary is a JSON array of tokens or an object token -> id");
        }
        return new Vocabulary(tokens, file);
    }

    public int size() {
        return tokens.size();
    }

    public String token(int id) {
        return tokens.get(id);
    }

    /** The ids of {@code text}, cut by longest match; a character no token starts with is refused in one line. */
    public int[] encode(String text) {
        List<Integer> out = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int found = -1;
            int length = 0;
            for (int n = Math.min(longest, text.length() - i); n > 0 && found < 0; n--) {
                Integer id = ids.get(text.substring(i, i + n));
                if (id != null) {
                    found = id;
                    length = n;
                }
            }
            if (found < 0) {
                int cp = text.codePointAt(i);
                throw new InvalidInputException(String.format(java.util.Locale.ROOT,
                        "the vocabulary has no token for %s (U+%04X) at character %d of the prompt",
                        FormatException.quote(new String(Character.toChars(cp))), cp, i));
            }
            out.add(found);
            i += length;
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The text of {@code ids}, token after token. */
    public String decode(int... ids) {
        StringBuilder s = new StringBuilder();
        for (int id : ids) {
            s.append(tokens.get(id));
        }
        return s.toString();
    }
}
