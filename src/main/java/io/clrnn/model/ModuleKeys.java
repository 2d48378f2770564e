package io.clrnn.model;

import io.clrnn.base.InvalidInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Collection;
import java.util.stream.Collectors;

/**
 * Finds a recurrent module among a state_dict's keys: a whole model's state_dict names its LSTM's
 * parameters {@code encoder.lstm.weight_ih_l0}, ...; the prefix ({@code encoder.lstm.}) is found when
 * exactly one module is there, or named by the user when several are.
 */
public final class ModuleKeys {
    /** Keys, prefixes and mismatches listed in one message at most; the rest are counted. */
    static final int LISTED = 10;
    private static final String ANCHOR = "weight_ih_l0";

    private ModuleKeys() {}

    /** One module's prefix ("" for a bare module's state_dict). */
    public record Module(String prefix) {
        /** Whether {@code key} is one of the module's own: under the prefix, naming no deeper module. */
        public boolean owns(String key) {
            return key.startsWith(prefix) && key.indexOf('.', prefix.length()) < 0;
        }

        /** The module's own entries, prefix stripped. */
        public <T> Map<String, T> params(Map<String, T> stateDict) {
            Map<String, T> own = new LinkedHashMap<>();
            stateDict.forEach((key, value) -> {
                if (owns(key)) {
                    own.put(key.substring(prefix.length()), value);
                }
            });
            return own;
        }
    }

    /** Every prefix under which a recurrent module's first weight lies, in key order. */
    public static List<String> prefixes(Iterable<String> keys) {
        List<String> found = new ArrayList<>();
        for (String key : keys) {
            if (key.endsWith(ANCHOR)) {
                String prefix = key.substring(0, key.length() - ANCHOR.length());
                if (prefix.isEmpty() || prefix.endsWith(".")) {
                    found.add(prefix);
                }
            }
        }
        return found;
    }

    /**
     * The module to load: under {@code requested} when given ("encoder.lstm" or "encoder.lstm."), else the
     * only one there is. With none at all, the bare prefix: loading then reports the missing keys.
     */
    public static Module find(Collection<String> keys, String requested) {
        List<String> found = prefixes(keys);
        if (requested != null) {
            String prefix = requested.isEmpty() || requested.endsWith(".") ? requested : requested + ".";
            if (!found.contains(prefix)) {
                throw new InvalidInputException("no recurrent module under prefix " + quote(prefix) + " ("
                        + (found.isEmpty() ? "the file holds none" : "found: " + quoted(found)) + ")");
            }
            return new Module(prefix);
        }
        if (found.size() > 1) {
            throw new InvalidInputException("the file holds " + found.size() + " recurrent modules, under the "
                    + "prefixes " + quoted(found) + "; choose one with --prefix");
        }
        return new Module(found.isEmpty() ? "" : found.get(0));
    }

    /** {@code "a", "b"}, the first {@link #LISTED} of them, control characters escaped. */
    public static String quoted(List<String> keys) {
        String listed = keys.stream().limit(LISTED).map(ModuleKeys::quote).collect(Collectors.joining(", "));
        return keys.size() > LISTED ? listed + " and " + (keys.size() - LISTED) + " more" : listed;
    }

    /** A key from a file, quoted for a one-line message. */
    static String quote(String key) {
        return "\"" + InvalidInputException.plain(key) + "\"";
    }
}
