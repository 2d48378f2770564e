package io.clrnn;

import io.clrnn.device.Device;

/** The device tests run on: -Dclrnn.device=SPEC picks another (a GPU, say); the default is auto. */
public final class TestDevice {
    public static final String SPEC = System.getProperty("clrnn.device", "auto");

    private TestDevice() {}

    public static Device open() {
        return Device.select(SPEC);
    }
}
