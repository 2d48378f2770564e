package io.clrnn;

import io.clrnn.device.Device;

/**
 * The device the tests run on: -Dclrnn.device=SPEC, else $CLRNN_DEVICE ({@code scripts/test --device SPEC}),
 * else auto. Any OpenCL device must pass the whole suite.
 */
public final class TestDevice {
    public static final String SPEC = System.getProperty("clrnn.device",
            System.getenv().getOrDefault("CLRNN_DEVICE", "auto"));

    private TestDevice() {}

    private static Device shared;

    /** A new device of its own, for tests that close it or count what it holds. */
    public static Device open() {
        return Device.select(SPEC);
    }

    /**
     * The device most test classes share, opened once per JVM (so programs are built once, not once per
     * class) and closed when the JVM exits.
     */
    public static synchronized Device shared() {
        if (shared == null) {
            shared = open();
            Device d = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(d::close, "close the shared test device"));
        }
        return shared;
    }
}
