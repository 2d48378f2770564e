package io.clrnn.device;

import io.clrnn.base.InvalidInputException;

/** The device spec the user gave matches no OpenCL device on this machine. */
public class DeviceNotFoundException extends InvalidInputException {
    public DeviceNotFoundException(String message) {
        super(message);
    }
}
