package io.clrnn.device;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;

/** One kernel object with typed argument setters; not for concurrent use. */
public final class ClKernel extends ClResource {
    private final cl_kernel kernel;
    private final String name;
    private volatile long maxWorkGroupSize;

    ClKernel(cl_kernel kernel, String name) {
        super("kernel");
        this.kernel = kernel;
        this.name = name;
    }

    public String name() {
        return name;
    }

    public ClKernel arg(int index, ClBuffer buffer) {
        Cl.check(CL.clSetKernelArg(handle(), index, Sizeof.cl_mem, Pointer.to(buffer.mem())), call(index));
        return this;
    }

    public ClKernel arg(int index, int value) {
        Cl.check(CL.clSetKernelArg(handle(), index, Sizeof.cl_int, Pointer.to(new int[] {value})), call(index));
        return this;
    }

    /** A {@code __local} argument of the given size. */
    public ClKernel localArg(int index, long bytes) {
        Cl.check(CL.clSetKernelArg(handle(), index, bytes, null), call(index));
        return this;
    }

    /** CL_KERNEL_WORK_GROUP_SIZE: the largest work-group this kernel can run with on its device; asked once. */
    public long maxWorkGroupSize(cl_device_id device) {
        if (maxWorkGroupSize > 0) {
            return maxWorkGroupSize;
        }
        long[] value = new long[1];
        Cl.check(CL.clGetKernelWorkGroupInfo(handle(), device, CL.CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t,
                Pointer.to(value), null), "clGetKernelWorkGroupInfo(" + name + ")");
        maxWorkGroupSize = value[0];
        return value[0];
    }

    cl_kernel handle() {
        ensureOpen();
        return kernel;
    }

    private String call(int index) {
        return "clSetKernelArg(" + name + ", " + index + ")";
    }

    @Override
    protected void release() {
        CL.clReleaseKernel(kernel);
    }
}
