package io.clrnn.device;

import io.clrnn.base.ClrnnException;

/** No usable OpenCL on this machine at all: the loader library or every platform is missing. */
public class OpenClUnavailableException extends ClrnnException {
    static final String HOW_TO_INSTALL =
            "install an OpenCL runtime, e.g. on Debian/Ubuntu: "
                    + "apt-get install ocl-icd-opencl-dev (the loader and libOpenCL.so) "
                    + "pocl-opencl-icd (a CPU device), or your GPU vendor's OpenCL driver";

    public OpenClUnavailableException(String what, Throwable cause) {
        super(what + "; " + HOW_TO_INSTALL, cause);
    }
}
