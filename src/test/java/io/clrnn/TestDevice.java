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

    public static Device open() {
        return Device.select(SPEC);
    }
}
