package io.clrnn.device;

import java.util.HashMap;
import java.util.Map;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;

/**
 * One kernel object whose arguments are set by the names the kernel's source gives them (programs are
 * built with -cl-kernel-arg-info), so that host and kernel cannot disagree about positions. Not for
 * concurrent use.
 */
public final class ClKernel extends ClResource {
    private final cl_kernel kernel;
    private final String name;
    private final Map<String, Integer> argIndex;
    /**
     * What each argument was last set to (an Integer, a Long, a ClBuffer or a local size): arguments stay
     * set on a kernel object, and a service calling forward with the same shape again sets most of them
     * to what they already are, so those calls are skipped.
     */
    private final Object[] lastValue;
    private volatile long maxWorkGroupSize;

    /** Wraps {@code kernel}; releases it when its arguments cannot be listed. */
    static ClKernel of(cl_kernel kernel, String name) {
        Map<String, Integer> names;
        try {
            names = argNames(kernel, name);
        } catch (RuntimeException e) {
            CL.clReleaseKernel(kernel);
            throw e;
        }
        return new ClKernel(kernel, name, names);
    }

    private ClKernel(cl_kernel kernel, String name, Map<String, Integer> argIndex) {
        super("kernel");
        this.kernel = kernel;
        this.name = name;
        this.argIndex = argIndex;
        this.lastValue = new Object[argIndex.size()];
    }

    private static Map<String, Integer> argNames(cl_kernel kernel, String name) {
        int[] count = new int[1];
        CheckedCl.check(CL.clGetKernelInfo(kernel, CL.CL_KERNEL_NUM_ARGS, Sizeof.cl_uint, Pointer.to(count), null),
                "clGetKernelInfo(" + name + ", CL_KERNEL_NUM_ARGS)");
        Map<String, Integer> names = new HashMap<>();
        for (int i = 0; i < count[0]; i++) {
            long[] size = new long[1];
            String call = "clGetKernelArgInfo(" + name + ", " + i + ", CL_KERNEL_ARG_NAME)";
            CheckedCl.check(CL.clGetKernelArgInfo(kernel, i, CL.CL_KERNEL_ARG_NAME, 0, null, size), call);
            byte[] bytes = new byte[(int) size[0]];
            CheckedCl.check(CL.clGetKernelArgInfo(kernel, i, CL.CL_KERNEL_ARG_NAME, bytes.length, Pointer.to(bytes), null),
                    call);
            int n = 0;
            while (n < bytes.length && bytes[n] != 0) {
                n++;
            }
            names.put(new String(bytes, 0, n, java.nio.charset.StandardCharsets.US_ASCII), i);
        }
        return names;
    }

    public String name() {
        return name;
    }

    public ClKernel arg(String arg, ClBuffer buffer) {
        int i = index(arg);
        if (lastValue[i] != buffer || buffer.isClosed()) {
            CheckedCl.check(CL.clSetKernelArg(handle(), i, Sizeof.cl_mem, Pointer.to(buffer.mem())), call(arg));
            lastValue[i] = buffer;
        }
        return this;
    }

    public ClKernel arg(String arg, int value) {
        int i = index(arg);
        if (!(lastValue[i] instanceof Integer v && v == value)) {
            CheckedCl.check(CL.clSetKernelArg(handle(), i, Sizeof.cl_int, Pointer.to(new int[] {value})), call(arg));
            lastValue[i] = value;
        }
        return this;
    }

    public ClKernel arg(String arg, long value) {
        int i = index(arg);
        if (!(lastValue[i] instanceof Long v && v == value)) {
            CheckedCl.check(CL.clSetKernelArg(handle(), i, Sizeof.cl_long, Pointer.to(new long[] {value})), call(arg));
            lastValue[i] = value;
        }
        return this;
    }

    public ClKernel arg(String arg, float value) {
        int i = index(arg);
        if (!(lastValue[i] instanceof Float v && Float.floatToRawIntBits(v) == Float.floatToRawIntBits(value))) {
            CheckedCl.check(CL.clSetKernelArg(handle(), i, Sizeof.cl_float, Pointer.to(new float[] {value})), call(arg));
            lastValue[i] = value;
        }
        return this;
    }

    /** An {@code int8} argument: up to eight ints, the rest zero. */
    public ClKernel arg8(String arg, int[] values) {
        if (values.length > 8) {
            throw new IllegalArgumentException(arg + ": " + values.length + " ints do not fit an int8");
        }
        int i = index(arg);
        Int8 v = new Int8(java.util.Arrays.copyOf(values, 8));
        if (!v.equals(lastValue[i])) {
            CheckedCl.check(CL.clSetKernelArg(handle(), i, Sizeof.cl_int * 8L, Pointer.to(v.values)), call(arg));
            lastValue[i] = v;
        }
        return this;
    }

    private record Int8(int[] values) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Int8 other && java.util.Arrays.equals(values, other.values);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(values);
        }
    }

    /** A {@code __local} argument of the given size. */
    public ClKernel localArg(String arg, long bytes) {
        int i = index(arg);
        Local size = new Local(Math.max(bytes, 4));
        if (!size.equals(lastValue[i])) {
            CheckedCl.check(CL.clSetKernelArg(handle(), i, size.bytes, null), call(arg));
            lastValue[i] = size;
        }
        return this;
    }

    private record Local(long bytes) {}

    private int index(String arg) {
        Integer i = argIndex.get(arg);
        if (i == null) {
            throw new IllegalArgumentException("kernel " + name + " has no argument named " + arg);
        }
        return i;
    }

    /** CL_KERNEL_WORK_GROUP_SIZE: the largest work-group this kernel can run with on its device; asked once. */
    long maxWorkGroupSize(cl_device_id device) {
        if (maxWorkGroupSize > 0) {
            return maxWorkGroupSize;
        }
        long[] value = new long[1];
        CheckedCl.check(CL.clGetKernelWorkGroupInfo(handle(), device, CL.CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t,
                Pointer.to(value), null), "clGetKernelWorkGroupInfo(" + name + ")");
        maxWorkGroupSize = value[0];
        return value[0];
    }

    cl_kernel handle() {
        ensureOpen();
        return kernel;
    }

    private String call(String arg) {
        return "clSetKernelArg(" + name + ", " + arg + ")";
    }

    @Override
    protected void release() {
        CL.clReleaseKernel(kernel);
    }
}
