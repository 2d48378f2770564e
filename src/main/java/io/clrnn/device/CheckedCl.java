package io.clrnn.device;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * The one checked choke point for OpenCL status codes, plus typed info queries. JOCL's own
 * exceptions stay off so that every failure goes through {@link #check}.
 */
final class CheckedCl {
    /** JOCL's status for "no ICD platform"; not in {@link CL} as a constant. */
    static final int CL_PLATFORM_NOT_FOUND_KHR = -1001;

    private CheckedCl() {}

    static void check(int status, String call) {
        if (status != CL.CL_SUCCESS) {
            throw new OpenClException(call, status);
        }
    }

    /** All platforms; translates a missing loader or ICD into {@link OpenClUnavailableException}. */
    static cl_platform_id[] platforms() {
        int[] count = new int[1];
        int status;
        if (!OpenClLibrary.mayBePresent()) {
            throw new OpenClUnavailableException(
                    "OpenCL could not be loaded: no libOpenCL.so (the unversioned name JOCL loads) on this machine", null);
        }
        try {
            CL.setExceptionsEnabled(false);
            status = CL.clGetPlatformIDs(0, null, count);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new OpenClUnavailableException(
                    "OpenCL could not be loaded (JOCL needs libOpenCL.so: " + firstLine(e) + ")", e);
        }
        if (status == CL_PLATFORM_NOT_FOUND_KHR || (status == CL.CL_SUCCESS && count[0] == 0)) {
            throw new OpenClUnavailableException("no OpenCL platform is installed", null);
        }
        check(status, "clGetPlatformIDs");
        cl_platform_id[] ids = new cl_platform_id[count[0]];
        check(CL.clGetPlatformIDs(ids.length, ids, null), "clGetPlatformIDs");
        return ids;
    }

    static cl_device_id[] devices(cl_platform_id platform) {
        int[] count = new int[1];
        int status = CL.clGetDeviceIDs(platform, CL.CL_DEVICE_TYPE_ALL, 0, null, count);
        if (status == CL.CL_DEVICE_NOT_FOUND) {
            return new cl_device_id[0];
        }
        check(status, "clGetDeviceIDs");
        cl_device_id[] ids = new cl_device_id[count[0]];
        check(CL.clGetDeviceIDs(platform, CL.CL_DEVICE_TYPE_ALL, ids.length, ids, null), "clGetDeviceIDs");
        return ids;
    }

    static String platformString(cl_platform_id platform, int param) {
        long[] size = new long[1];
        check(CL.clGetPlatformInfo(platform, param, 0, null, size), "clGetPlatformInfo");
        byte[] bytes = new byte[(int) size[0]];
        check(CL.clGetPlatformInfo(platform, param, bytes.length, Pointer.to(bytes), null), "clGetPlatformInfo");
        return cString(bytes);
    }

    static String deviceString(cl_device_id device, int param) {
        long[] size = new long[1];
        check(CL.clGetDeviceInfo(device, param, 0, null, size), "clGetDeviceInfo");
        byte[] bytes = new byte[(int) size[0]];
        check(CL.clGetDeviceInfo(device, param, bytes.length, Pointer.to(bytes), null), "clGetDeviceInfo");
        return cString(bytes);
    }

    /** cl_uint, cl_ulong, size_t and cl_bitfield queries alike, widened to long. */
    static long deviceLong(cl_device_id device, int param) {
        long[] size = new long[1];
        check(CL.clGetDeviceInfo(device, param, 0, null, size), "clGetDeviceInfo");
        ByteBuffer buffer = ByteBuffer.allocate(Math.max(8, (int) size[0])).order(ByteOrder.nativeOrder());
        check(CL.clGetDeviceInfo(device, param, size[0], Pointer.to(buffer), null), "clGetDeviceInfo");
        return size[0] == Sizeof.cl_uint ? Integer.toUnsignedLong(buffer.getInt(0)) : buffer.getLong(0);
    }

    private static String cString(byte[] bytes) {
        int n = 0;
        while (n < bytes.length && bytes[n] != 0) {
            n++;
        }
        return new String(bytes, 0, n, StandardCharsets.UTF_8).trim();
    }

    private static String firstLine(Throwable e) {
        String message = String.valueOf(e.getMessage());
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
