package io.clrnn.device;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Faults for one device's OpenCL calls, installed as its call hook ({@link Device#callHook}): makes a chosen
 * upcoming call fail with a chosen status before it reaches the driver, as a driver out of memory or resources
 * would. One armed fault at a time, consumed when it fires.
 */
final class Faults implements Consumer<String> {
    private record Armed(String callPrefix, int status, AtomicInteger skip) {}

    private volatile Armed armed;

    /** The call after {@code skip} matching calls whose name starts with {@code callPrefix} fails with {@code status}. */
    void failAfter(String callPrefix, int skip, int status) {
        armed = new Armed(callPrefix, status, new AtomicInteger(skip));
    }

    /** Whether an armed fault has not fired yet. */
    boolean pending() {
        return armed != null;
    }

    void clear() {
        armed = null;
    }

    /** Called before each guarded OpenCL call. */
    @Override
    public void accept(String call) {
        Armed a = armed;
        if (a != null && call.startsWith(a.callPrefix) && a.skip.getAndDecrement() == 0) {
            armed = null;
            throw new OpenClException(call, a.status, "(injected by Faults)");
        }
    }
}
