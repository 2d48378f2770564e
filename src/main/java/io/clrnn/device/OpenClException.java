package io.clrnn.device;

import io.clrnn.base.ClrnnException;
import org.jocl.CL;

/** An OpenCL call that failed: names the call and the {@code CL_*} status it returned. */
public class OpenClException extends ClrnnException {
    private final String call;
    private final int status;

    public OpenClException(String call, int status) {
        this(call, status, null);
    }

    /** {@code detail} is appended on its own lines (a build log, say). */
    public OpenClException(String call, int status, String detail) {
        super(call + " failed: " + statusName(status) + (detail == null ? "" : "\n" + detail));
        this.call = call;
        this.status = status;
    }

    public String call() {
        return call;
    }

    /** The raw status code, e.g. {@link CL#CL_OUT_OF_RESOURCES}. */
    public int status() {
        return status;
    }

    static String statusName(int status) {
        try {
            return CL.stringFor_errorCode(status);
        } catch (LinkageError e) {
            return "CL error " + status;
        }
    }
}
