package io.clrnn.engine;

import io.clrnn.device.DeviceInfo;
import io.clrnn.model.RnnConfig;
import java.util.Locale;

/**
 * Which kernel variant runs with which tile sizes, for one device and module: the one place where
 * shapes and device limits turn into kernel choices. Weight layouts depend only on {@link Layout};
 * the recurrence's variant and blocking also depend on the batch, see {@link #recurrence}.
 */
public final class KernelPlan {
    /** Floats of local memory left unused for the compiler's own locals. */
    private static final long LOCAL_MEM_MARGIN_BYTES = 1024;
    /** Sequence kernels on a GPU stop after about this many multiply-adds, so no launch nears a watchdog. */
    private static final long GPU_FMAS_PER_LAUNCH = 1L << 28;
    /** Below this many multiply-adds a forward is latency-bound: one work-group beats splitting the batch. */
    private static final long SPLIT_THRESHOLD_FMAS = 1L << 22;

    private KernelPlan() {}

    /**
     * Tiles of the projection GEMM and padded widths of the weight buffers.
     *
     * @param vecP  floats per vector in the projection (along N)
     * @param tm    rows per projection work-item
     * @param nv    vectors per projection work-item along N
     * @param ldn   padded row width of P, W_ih^T and the bias: a multiple of nv*vecP that covers D*H and
     *              the recurrence's vector over-read at the last direction's edge
     * @param vecR  floats per vector in the recurrence (along hidden)
     * @param nvR   vectors per work-item along hidden in rnn_rows
     * @param hp    hidden size padded to nvR*vecR: the row width of W_hh^T
     * @param wLocal whether the sequence kernel copies W_hh^T into local memory
     * @param localX, localY projection work-group shape
     */
    public record Layout(int vecP, int tm, int nv, int ldn, int vecR, int nvR, int hp, boolean wLocal,
            int localX, int localY) {

        public int tileN() {
            return nv * vecP;
        }

        String projectionOptions() {
            return String.format(Locale.ROOT, "-DVEC=%d -DTM=%d -DNV=%d", vecP, tm, nv);
        }
    }

    public enum Variant { ROWS, SEQUENCE, STEP }

    /**
     * @param tb             batch rows per register block
     * @param groupRows      batch rows per work-group (SEQUENCE) or per work-item (ROWS)
     * @param stepsPerLaunch time steps one ROWS or SEQUENCE launch runs at most
     */
    public record Recurrence(Variant variant, int tb, int groupRows, int stepsPerLaunch) {}

    public static Layout layout(DeviceInfo device, RnnConfig config) {
        int hidden = config.hiddenSize();
        int width = config.numDirections() * hidden;
        int deviceVec = device.isCpu() ? cpuVectorWidth(device) : 4;
        int vecR = Math.min(deviceVec, vectorFor(hidden));
        // rnn_rows keeps TB x NVR accumulators: 8 x 2 fills half of AVX-512's 32 registers, leaving the rest
        // for W_hh^T vectors and broadcasts; narrower CPUs get half as many rows.
        int nvR = device.isCpu() ? Math.min(2, ceilDiv(hidden, vecR)) : 1;
        int hp = roundUp(hidden, nvR * vecR);
        int vecP = Math.min(deviceVec, vectorFor(width));
        int nv = device.isCpu() && width > vecP ? 2 : 1;
        int tm = device.isCpu() ? 6 : 4;
        int ldn = roundUp(Math.max(width, width - hidden + hp), nv * vecP);
        boolean wLocal = device.localMemIsDedicated()
                && (long) hidden * hp * 4 + 2L * hp * 4 * 2 + LOCAL_MEM_MARGIN_BYTES <= device.localMemBytes();
        int localX = device.isCpu() ? 1 : 16;
        int localY = device.isCpu() ? 4 : 8;
        return new Layout(vecP, tm, nv, ldn, vecR, nvR, hp, wLocal, localX, localY);
    }

    /**
     * Sequence kernel whenever a work-group can hold the batch rows it needs (always on a CPU, where
     * a work-group is a loop, not a piece of silicon); otherwise one launch per step.
     */
    public static Recurrence recurrence(DeviceInfo device, RnnConfig config, Layout layout, int seqLen, int batch,
            long kernelMaxWorkGroup) {
        int hidden = config.hiddenSize();
        int dirs = config.numDirections();
        if (device.isCpu()) {
            return rows(device, config, seqLen, batch);
        }
        int tb = device.isCpu() ? Math.min(batch, 8) : Math.min(batch, 2);
        int columns = layout.hp() / layout.vecR();
        long fmas = (long) seqLen * batch * hidden * hidden * dirs;
        int blocks = ceilDiv(batch, tb);
        // Work-groups per direction: enough to fill the compute units when the work pays for it.
        int wantGroups = fmas < SPLIT_THRESHOLD_FMAS ? 1 : Math.max(1, ceilDiv(device.computeUnits(), dirs));
        if (!device.isCpu()) {
            wantGroups = Math.max(wantGroups, blocks);
        }
        int groupBlocks = ceilDiv(blocks, Math.min(blocks, wantGroups));
        while (groupBlocks > 1 && ((long) columns * groupBlocks > kernelMaxWorkGroup
                || !fitsLocal(device, layout, hidden, groupBlocks * tb))) {
            groupBlocks = ceilDiv(groupBlocks, 2);
        }
        boolean sequence = columns <= kernelMaxWorkGroup && fitsLocal(device, layout, hidden, groupBlocks * tb)
                && (device.isCpu() || layout.wLocal());
        if (!sequence) {
            return new Recurrence(Variant.STEP, tb, tb, 1);
        }
        int groupRows = groupBlocks * tb;
        int steps = device.isGpu()
                ? (int) Math.max(1, Math.min(seqLen, GPU_FMAS_PER_LAUNCH / ((long) hidden * layout.hp() * groupRows)))
                : seqLen;
        return new Recurrence(Variant.SEQUENCE, tb, groupRows, steps);
    }

    /**
     * CPUs: one work-item per block of batch rows and direction, as many as fill the compute units
     * when the work pays for it; each streams W_hh^T once per step for all its rows.
     */
    private static Recurrence rows(DeviceInfo device, RnnConfig config, int seqLen, int batch) {
        int tb = Math.min(batch, cpuVectorWidth(device) >= 16 ? 8 : 4);
        int dirs = config.numDirections();
        long fmas = (long) seqLen * batch * config.hiddenSize() * config.hiddenSize() * dirs;
        int itemsPerDirection = fmas < SPLIT_THRESHOLD_FMAS ? 1
                : Math.min(ceilDiv(batch, tb), Math.max(1, ceilDiv(device.computeUnits(), dirs)));
        int rowsPerItem = ceilDiv(batch, itemsPerDirection);
        return new Recurrence(Variant.ROWS, tb, rowsPerItem, seqLen);
    }

    static long sequenceLocalBytes(Layout layout, int hidden, int groupRows) {
        return 2L * groupRows * layout.hp() * 4 + (layout.wLocal() ? (long) hidden * layout.hp() * 4 : 4);
    }

    private static boolean fitsLocal(DeviceInfo device, Layout layout, int hidden, int groupRows) {
        return sequenceLocalBytes(layout, hidden, groupRows) + LOCAL_MEM_MARGIN_BYTES <= device.localMemBytes();
    }

    /** 16 on AVX-512, 8 on AVX2, else what the device prefers, at least 4. */
    private static int cpuVectorWidth(DeviceInfo device) {
        int preferred = device.preferredFloatVectorWidth();
        return preferred >= 16 ? 16 : preferred >= 8 ? 8 : 4;
    }

    /** The smallest OpenCL vector width (2, 4, 8, 16) that covers n, so tiny layers waste few lanes. */
    private static int vectorFor(int n) {
        int v = 2;
        while (v < 16 && v < n) {
            v *= 2;
        }
        return v;
    }

    static int roundUp(int n, int multiple) {
        return ceilDiv(n, multiple) * multiple;
    }

    static int ceilDiv(int n, int d) {
        return (n + d - 1) / d;
    }
}
