package io.clrnn.device;

/** Tests' handle on a device's fault seam, which library users cannot reach. */
public final class InjectFaults {
    private InjectFaults() {}

    /** The call after {@code skip} matching calls whose name starts with {@code callPrefix} fails with {@code status}. */
    public static void failAfter(Device device, String callPrefix, int skip, int status) {
        faults(device).failAfter(callPrefix, skip, status);
    }

    /** Whether an armed fault has not fired yet. */
    public static boolean pending(Device device) {
        return faults(device).pending();
    }

    public static void clear(Device device) {
        faults(device).clear();
    }

    /** The device's faults, installed as its call hook the first time. */
    private static synchronized Faults faults(Device device) {
        if (device.callHook instanceof Faults installed) {
            return installed;
        }
        Faults faults = new Faults();
        device.callHook = faults;
        return faults;
    }
}
