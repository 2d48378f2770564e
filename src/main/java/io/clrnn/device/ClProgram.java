package io.clrnn.device;

import org.jocl.CL;
import org.jocl.cl_kernel;
import org.jocl.cl_program;

/** A program built for one device with one set of options; makes kernels. */
public final class ClProgram extends ClResource {
    private final cl_program program;
    private final String name;

    ClProgram(cl_program program, String name) {
        super("program");
        this.program = program;
        this.name = name;
    }

    /** A new kernel object; each caller that sets arguments concurrently needs its own. */
    public ClKernel kernel(String kernelName) {
        ensureOpen();
        Faults.before("clCreateKernel(" + kernelName + ")");
        int[] status = new int[1];
        cl_kernel kernel = CL.clCreateKernel(program, kernelName, status);
        Cl.check(status[0], "clCreateKernel(" + kernelName + ") in " + name);
        return new ClKernel(kernel, kernelName);
    }

    @Override
    protected void release() {
        CL.clReleaseProgram(program);
    }
}
