package io.clrnn.device;

import java.util.Locale;

/**
 * What clrnn needs to know of one OpenCL device: how it is listed and selected, and the limits
 * that kernels are sized from.
 *
 * @param index  position in {@code clrnn devices} (platform order, then device order)
 * @param hasFma whether CL_DEVICE_SINGLE_FP_CONFIG has CL_FP_FMA: fma() is fast, not emulated
 */
public record DeviceInfo(
        int index,
        Type type,
        String name,
        String platform,
        String vendor,
        String version,
        int computeUnits,
        long globalMemBytes,
        long maxAllocBytes,
        long localMemBytes,
        boolean localMemIsDedicated,
        long maxWorkGroupSize,
        int preferredFloatVectorWidth,
        boolean hasFma) {

    public enum Type { CPU, GPU, ACCELERATOR, OTHER }

    public boolean isCpu() {
        return type == Type.CPU;
    }

    public boolean isGpu() {
        return type == Type.GPU;
    }

    /** One line of {@code clrnn devices}. */
    public String describe() {
        return String.format(Locale.ROOT, "%d  %-11s %s  [%s]  %d compute units, %s global memory",
                index, type, name, platform, computeUnits, humanBytes(globalMemBytes));
    }

    static String humanBytes(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
        }
        return String.format(Locale.ROOT, "%.0f MiB", bytes / (double) (1L << 20));
    }
}
