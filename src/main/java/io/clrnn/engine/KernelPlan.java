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
    /**
     * Below this many multiply-adds (a layer's projection and recurrence together) a launch costs more
     * than the arithmetic: measured on PoCL, a command costs 5-10 us, the lab's whole layer 2 us.
     */
    private static final long FUSE_THRESHOLD_FMAS = 1L << 19;
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
     * @param smallTile whether tiny products switch to a 4 x vecP projection tile
     * @param panelP columns per panel of W_ih^T: the projection tile's width on CPUs, so a tile reads
     *               its weights contiguously instead of one page per k; ldn (row-major) on GPUs,
     *               where neighbouring work-items must read neighbouring addresses
     * @param panelR columns per panel of W_hh^T, likewise: nvR*vecR on CPUs, hp on GPUs
     */
    public record Layout(int vecP, int tm, int nv, int ldn, int vecR, int nvR, int hp, boolean wLocal,
            int localX, int localY, boolean smallTile, int panelP, int panelR) {

        /** Derives the padded widths from the tiles; every layout is made here, so they always agree. */
        public static Layout of(RnnConfig config, int vecP, int tm, int nv, int vecR, int nvR, boolean wLocal,
                int localX, int localY, boolean smallTile, boolean panels) {
            int hidden = config.hiddenSize();
            int width = config.numDirections() * hidden;
            int hp = roundUp(hidden, nvR * vecR);
            int ldn = roundUp(Math.max(width, width - hidden + hp), nv * vecP);
            return new Layout(vecP, tm, nv, ldn, vecR, nvR, hp, wLocal, localX, localY, smallTile,
                    panels ? nv * vecP : ldn, panels ? nvR * vecR : hp);
        }

        /** Where W_ih^T[k][c] (k < K, c < ldn) goes in the packed buffer. */
        int wihIndex(int k, int c, int kSize) {
            return (c / panelP) * kSize * panelP + k * panelP + c % panelP;
        }

        /** Where W_hh^T[d][k][j] goes in the packed buffer. */
        int whhIndex(int d, int k, int j, int hidden) {
            return d * hidden * hp + (j / panelR) * hidden * panelR + k * panelR + j % panelR;
        }

        /**
         * Whether rnn_rows' fused projection can load each vector of W_ih^T columns in one piece: every
         * direction's columns start on a vector boundary, and panels hold whole vectors.
         */
        public boolean wihAligned(RnnConfig config) {
            return (config.numDirections() == 1 || config.hiddenSize() % vecR == 0) && panelP % vecR == 0;
        }

        String recurrenceOptions() {
            return String.format(Locale.ROOT, "-DVEC=%d -DNVR=%d -DPANEL_R=%d -DW_LOCAL=%d", vecR, nvR, panelR,
                    wLocal ? 1 : 0);
        }

        public int tileN() {
            return nv * vecP;
        }

        /** The projection's tiles for a GEMM of {@code fmas} multiply-adds on {@code device}. */
        public ProjectionTiles projectionTiles(DeviceInfo device, long fmas) {
            // Tiny products (the lab's 20 x 64 x 128) run far faster with a small tile on PoCL:
            // the big tile's vector accumulators cost more to set up than the work they do.
            if (smallTile && device.isCpu() && fmas < SPLIT_THRESHOLD_FMAS / 2) {
                return new ProjectionTiles(vecP, 4, 1, panelP);
            }
            return new ProjectionTiles(vecP, tm, nv, panelP);
        }
    }

    /** One compiled projection kernel's tiles; nv*vecP divides the panel width, which divides ldn. */
    public record ProjectionTiles(int vecP, int tm, int nv, int panel) {
        public int tileN() {
            return nv * vecP;
        }

        String options() {
            return String.format(Locale.ROOT, "-DVEC=%d -DTM=%d -DNV=%d -DPANEL=%d", vecP, tm, nv, panel);
        }
    }

    /**
     * The recurrence kernels: {@code rnn_rows} (CPUs), the same with the input projection fused in
     * (CPUs, problems so small that a separate GEMM launch costs more than its arithmetic),
     * {@code rnn_sequence} (GPUs, W_hh^T in local memory) and {@code rnn_step} (one launch per step).
     */
    public enum Variant {
        ROWS, ROWS_FUSED, SEQUENCE, STEP;

        public String kernel() {
            return switch (this) {
                case ROWS, ROWS_FUSED -> "rnn_rows";
                case SEQUENCE -> "rnn_sequence";
                case STEP -> "rnn_step";
            };
        }
    }

    /**
     * @param tb             batch rows per register block
     * @param groupRows      batch rows per work-group (SEQUENCE) or per work-item (ROWS, ROWS_FUSED)
     * @param stepsPerLaunch time steps one ROWS(_FUSED) or SEQUENCE launch runs at most
     */
    public record Recurrence(Variant variant, int tb, int groupRows, int stepsPerLaunch) {}

    public static Layout layout(DeviceInfo device, RnnConfig config) {
        int hidden = config.hiddenSize();
        int width = config.numDirections() * hidden;
        int deviceVec = device.isCpu() ? cpuVectorWidth(device) : 4;
        int vecR = Math.min(deviceVec, vectorFor(hidden));
        // rnn_rows keeps TB x NVR accumulators: 8 x 2 fills half of AVX-512's 32 registers, leaving the rest
        // for W_hh^T vectors and broadcasts; narrower CPUs get half as many rows (see recurrence()).
        int nvR = device.isCpu() ? Math.min(2, ceilDiv(hidden, vecR)) : 1;
        int vecP = Math.min(deviceVec, vectorFor(width));
        int nv = device.isCpu() && width > vecP ? 2 : 1;
        // 10 x 2 vectors: 20 of AVX-512's 32 registers hold accumulators, the best of 6, 8, 10 and 12
        // rows measured on the large-hidden and throughput shapes.
        int tm = device.isCpu() ? 10 : 4;
        long wBytes = (long) hidden * roundUp(hidden, nvR * vecR) * 4;
        boolean wLocal = device.localMemIsDedicated()
                && wBytes + 4L * roundUp(hidden, vecR) * 4 + LOCAL_MEM_MARGIN_BYTES <= device.localMemBytes();
        return Layout.of(config, vecP, tm, nv, vecR, nvR, wLocal, device.isCpu() ? 1 : 16, device.isCpu() ? 4 : 8,
                true, device.isCpu());
    }

    /** Work-group shape of the projection over an nTiles x mTiles grid, within the kernel's limit. */
    public static long[] projectionLocalSize(Layout layout, int nTiles, int mTiles, long maxWorkGroup) {
        long lx = Math.min(layout.localX(), nTiles);
        long ly = Math.min(layout.localY(), mTiles);
        while (lx * ly > maxWorkGroup) {
            if (ly > 1) {
                ly /= 2;
            } else {
                lx /= 2;
            }
        }
        return new long[] {lx, ly};
    }

    /**
     * The recurrence of a forward over (seqLen, batch). {@code forced} names a variant (tests and
     * benchmarks); null chooses: CPUs run rnn_rows, with the projection fused in for tiny layers whose
     * W_ih^T vectors align; GPUs run rnn_sequence when W_hh^T fits in local memory and a work-group
     * can hold its rows, else rnn_step.
     *
     * @param sequenceMaxWorkGroup CL_KERNEL_WORK_GROUP_SIZE of rnn_sequence, or Long.MAX_VALUE when unknown
     */
    public static Recurrence recurrence(DeviceInfo device, RnnConfig config, Layout layout, int seqLen, int batch,
            long sequenceMaxWorkGroup, Variant forced) {
        long fmas = (long) seqLen * batch * config.numDirections() * config.hiddenSize()
                * (config.hiddenSize() + config.inputSize());
        Variant variant = forced != null ? forced
                : device.isCpu() && fmas < FUSE_THRESHOLD_FMAS && layout.wihAligned(config) ? Variant.ROWS_FUSED
                : device.isCpu() ? Variant.ROWS
                : layout.wLocal() ? Variant.SEQUENCE : Variant.STEP;
        int tb = Math.min(batch, device.isCpu() ? (cpuVectorWidth(device) >= 16 ? 8 : 4) : 2);
        return switch (variant) {
            case ROWS, ROWS_FUSED -> rows(device, config, layout, seqLen, batch, tb, variant);
            case STEP -> new Recurrence(Variant.STEP, tb, tb, 1);
            case SEQUENCE -> {
                Recurrence sequence = sequence(device, config, layout, seqLen, batch, tb, sequenceMaxWorkGroup);
                if (sequence == null && forced != null) {
                    throw new IllegalArgumentException("rnn_sequence cannot hold " + config + " on " + device.name());
                }
                yield sequence != null ? sequence : new Recurrence(Variant.STEP, tb, tb, 1);
            }
        };
    }

    /**
     * One work-item per block of batch rows and direction, as many as fill the compute units when
     * the work pays for it; each streams W_hh^T once per step for all its rows.
     */
    private static Recurrence rows(DeviceInfo device, RnnConfig config, Layout layout, int seqLen, int batch,
            int tb, Variant variant) {
        int dirs = config.numDirections();
        long fmas = (long) seqLen * batch * config.hiddenSize() * config.hiddenSize() * dirs;
        int itemsPerDirection = fmas < SPLIT_THRESHOLD_FMAS ? 1
                : Math.min(ceilDiv(batch, tb), Math.max(1, ceilDiv(device.computeUnits(), dirs)));
        int rowsPerItem = ceilDiv(batch, itemsPerDirection);
        return new Recurrence(variant, tb, rowsPerItem,
                stepsPerLaunch(device, config, layout, seqLen, rowsPerItem));
    }

    /** A work-group per block of rows and direction, h in local memory; null when none fits. */
    private static Recurrence sequence(DeviceInfo device, RnnConfig config, Layout layout, int seqLen, int batch,
            int tb, long maxWorkGroup) {
        int hidden = config.hiddenSize();
        int columns = layout.hp() / layout.vecR();
        int blocks = ceilDiv(batch, tb);
        // On a GPU many small groups fill the chip; on a CPU a group per compute unit at most.
        long fmas = (long) seqLen * batch * hidden * hidden * config.numDirections();
        int wantGroups = device.isGpu() ? blocks
                : fmas < SPLIT_THRESHOLD_FMAS ? 1 : Math.max(1, ceilDiv(device.computeUnits(), config.numDirections()));
        int groupBlocks = ceilDiv(blocks, Math.min(blocks, wantGroups));
        while (groupBlocks > 1 && ((long) columns * groupBlocks > maxWorkGroup
                || !fitsLocal(device, layout, hidden, groupBlocks * tb))) {
            groupBlocks = ceilDiv(groupBlocks, 2);
        }
        if (columns > maxWorkGroup || !fitsLocal(device, layout, hidden, groupBlocks * tb)) {
            return null;
        }
        int groupRows = groupBlocks * tb;
        return new Recurrence(Variant.SEQUENCE, tb, groupRows,
                stepsPerLaunch(device, config, layout, seqLen, groupRows));
    }

    /** All steps in one launch, except on GPUs, where a launch stays short enough for any watchdog. */
    private static int stepsPerLaunch(DeviceInfo device, RnnConfig config, Layout layout, int seqLen, int rows) {
        if (!device.isGpu()) {
            return seqLen;
        }
        long fmasPerStep = (long) config.hiddenSize() * layout.hp() * rows;
        return (int) Math.max(1, Math.min(seqLen, GPU_FMAS_PER_LAUNCH / fmasPerStep));
    }

    static long sequenceLocalBytes(Layout layout, int hidden, int groupRows) {
        return sequenceHBytes(layout, groupRows) + sequenceWBytes(layout, hidden);
    }

    /** rnn_sequence's h_buf: this step's and the next step's h for the group's rows. */
    static long sequenceHBytes(Layout layout, int groupRows) {
        return 2L * groupRows * layout.hp() * 4;
    }

    /** rnn_sequence's w_buf: W_hh^T of one direction, or a placeholder when it stays in global memory. */
    static long sequenceWBytes(Layout layout, int hidden) {
        return layout.wLocal() ? (long) hidden * layout.hp() * 4 : 4;
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
