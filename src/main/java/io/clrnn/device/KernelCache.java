package io.clrnn.device;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Kernel objects made on first use and kept, each under an explicit {@link Key}. A kernel object holds the arguments
 * last set on it, so each user keeps its own cache (an engine, a graph's session): a launch made again with the
 * same key sets only the arguments that changed. Programs themselves are cached once per device
 * ({@link Device#program}). Not thread-safe: its user serialises calls.
 */
public final class KernelCache implements AutoCloseable {
    /**
     * Which kernel object: {@code program} names the program (its files, or what chose its defines), {@code kernel}
     * the function in it, and {@code instance} which one of several objects of that function (null when one does).
     */
    public record Key(String program, String kernel, Object instance) {}

    private final Map<Key, ClKernel> kernels = new HashMap<>();

    /** The kernel object under {@code key}, made by {@code make} the first time. */
    public ClKernel get(Key key, Supplier<ClKernel> make) {
        ClKernel k = kernels.get(key);
        if (k == null) {
            k = make.get();
            kernels.put(key, k);
        }
        return k;
    }

    @Override
    public void close() {
        kernels.values().forEach(ClKernel::close);
        kernels.clear();
    }
}
