package io.clrnn.device;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The integer codes a kernel source defines ({@code #define U_TANH 1}, {@code #define CELL_LSTM 1}), read from the
 * source itself: the one definition of a code that the host passes to a kernel (an operator, a cell, a variant),
 * so that Java never keeps a second copy to drift from the C one.
 */
public final class KernelConstants {
    private static final Pattern DEFINE = Pattern.compile("(?m)^#define\\s+(\\w+)\\s+(-?\\d+)\\s*(?://.*)?$");
    private static final Map<String, Map<String, Integer>> BY_FILE = new ConcurrentHashMap<>();

    private KernelConstants() {}

    /** The value of {@code #define name <integer>} in {@code kernels/<file>}. */
    public static int code(String file, String name) {
        Integer value = BY_FILE.computeIfAbsent(file, KernelConstants::read).get(name);
        if (value == null) {
            throw new IllegalStateException("kernels/" + file + " defines no integer " + name);
        }
        return value;
    }

    private static Map<String, Integer> read(String file) {
        Map<String, Integer> values = new ConcurrentHashMap<>();
        Matcher m = DEFINE.matcher(Device.kernelSource(file));
        while (m.find()) {
            values.putIfAbsent(m.group(1), Integer.parseInt(m.group(2)));
        }
        return values;
    }
}
