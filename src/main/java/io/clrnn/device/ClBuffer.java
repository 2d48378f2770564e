package io.clrnn.device;

import org.jocl.CL;
import org.jocl.cl_mem;

/** A device buffer of a fixed number of bytes. */
public final class ClBuffer extends ClResource {
    private final cl_mem mem;
    private final long bytes;

    ClBuffer(cl_mem mem, long bytes) {
        super("buffer");
        this.mem = mem;
        this.bytes = bytes;
    }

    public long bytes() {
        return bytes;
    }

    cl_mem mem() {
        ensureOpen();
        return mem;
    }

    @Override
    protected void release() {
        CL.clReleaseMemObject(mem);
    }
}
