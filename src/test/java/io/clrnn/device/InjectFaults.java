package io.clrnn.device;

/** Tests' handle on a device's fault seam, which library users cannot reach. */
public final class InjectFaults {
    private InjectFaults() {}

    /** The call after {@code skip} matching calls whose name starts with {@code callPrefix} fails with {@code status}. */
    public static void failAfter(Device device, String callPrefix, int skip, int status) {
        device.faults.failAfter(callPrefix, skip, status);
    }

    /** Whether an armed fault has not fired yet. */
    public static boolean pending(Device device) {
        return device.faults.pending();
    }

    public static void clear(Device device) {
        device.faults.clear();
    }
}
