package io.clrnn.device;

import org.jocl.CL;
import org.jocl.cl_kernel;
import org.jocl.cl_program;

/** A program built for one device with one set of options; makes kernels. */
public final class ClProgram extends ClResource {
    private final cl_program program;
    private final String name;
    private final Device device;

    ClProgram(cl_program program, String name, Device device) {
        super("program");
        this.program = program;
        this.name = name;
        this.device = device;
    }

    /** A new kernel object; each caller that sets arguments concurrently needs its own. */
    public ClKernel kernel(String kernelName) {
        ensureOpen();
        device.beforeCall("clCreateKernel(" + kernelName + ")");
        int[] status = new int[1];
        cl_kernel kernel = CL.clCreateKernel(program, kernelName, status);
        CheckedCl.check(status[0], "clCreateKernel(" + kernelName + ") in " + name);
        return ClKernel.of(kernel, kernelName);
    }

    @Override
    protected void release() {
        CL.clReleaseProgram(program);
    }
}
