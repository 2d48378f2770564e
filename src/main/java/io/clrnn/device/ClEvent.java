package io.clrnn.device;

import org.jocl.CL;
import org.jocl.cl_event;

/** An event of one enqueued command, kept for its profiling times. */
final class ClEvent extends ClResource {
    private final cl_event event;

    ClEvent(cl_event event) {
        super("event");
        this.event = event;
    }

    cl_event handle() {
        ensureOpen();
        return event;
    }

    @Override
    protected void release() {
        CL.clReleaseEvent(event);
    }
}
