package io.clrnn.engine;

import io.clrnn.device.Device;
import io.clrnn.device.DeviceInfo;
import io.clrnn.device.KernelConstants;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;
import java.util.Locale;

/**
 * Which kernel variant runs with which tiles and work-group sizes, for one device and module: the one
 * place where shapes and device limits turn into kernel choices. Tiles and weight layouts depend only on
 * the device and the module ({@link #tiles}); the recurrence's variant and work split also depend on the
 * forward's shape ({@link #recurrence}).
 */
public final class KernelPlanner {
    /** Bytes of local memory left unused for the compiler's own locals. */
    private static final long LOCAL_MEM_MARGIN_BYTES = 1024;
    /** Sequence kernels on a GPU stop after about this many multiply-adds, so no launch nears a watchdog. */
    private static final long GPU_FMAS_PER_LAUNCH = 1L << 28;
    /**
     * Below this many multiply-adds (a layer's projection and recurrence together) a launch costs more
     * than the arithmetic: measured on PoCL, a command costs 5-10 us, the lab's whole layer 2 us.
     */
    private static final long FUSE_THRESHOLD_FMAS = 1L << 19;
    /** Below this many multiply-adds a forward is latency-bound: one work-item beats splitting the batch. */
    private static final long SPLIT_THRESHOLD_FMAS = 1L << 22;
    /**
     * Below this many multiply-adds a forward takes a device's in-thread latency lane even with two
     * directions to run: about 50 us on one core, what the worker wake-ups of a few commands cost.
     */
    private static final long LATENCY_LANE_FMAS = 1L << 21;
    /**
     * Below this many multiply-adds (about 1 ms on one core) a fused rnn_rows on several items is shared between the
     * calling thread and the device's worker threads: the hand-overs it saves are worth 10-25% there (LSTM T30 B8
     * I64 H128, RNN T25 B16 I128 H128), nothing on bigger forwards, where a worker thread that wakes late leaves the
     * caller waiting (a 2-item LSTM T50 B32 I64 H256 in a graph, 524M, ran 1.4x slower shared).
     */
    private static final long SHARED_FMAS = 1L << 26;
    /** The largest W_ih^T (one direction) that rnn_rows reads at every step instead of a projection GEMM. */
    private static final long FUSED_WIH_BYTES = 1L << 20;
    /**
     * From this many multiply-adds, and this many per step and work-item, a forward whose rows cannot fill
     * the compute units (batch 1) runs as a team that splits the units instead: about 200 us on one core
     * pays for the worker threads' wake-up (the latency lane has none), and 1 us a step for a barrier.
     * Measured on PoCL with 2 cores against rnn_rows in the latency lane: T20 B1 H256 GRU (6M) and T10 B1
     * H512 RNN were 5-15% slower as a team, T200 B1 H128 RNN (33k a step) 13% slower; T100 B1 H128 LSTM
     * was 10% faster, T200 B1 H512 LSTM 1.7x (2.2x with the zigzag walk), T200 B4 H512 LSTM 2x.
     */
    private static final long TEAM_THRESHOLD_FMAS = 1L << 23;
    private static final long TEAM_STEP_THRESHOLD_FMAS = 1L << 16;
    /** GPU work-groups of rnn_group are whole warps/wavefronts of at least this many work-items. */
    private static final int GPU_GROUP_MIN = 32;
    private static final int GPU_GROUP_MAX = 256;
    /** Work-group shape of the projection on GPUs (tiles along N, tiles along M). */
    private static final int GPU_PROJECTION_LOCAL_X = 16;
    private static final int GPU_PROJECTION_LOCAL_Y = 8;
    /** Work-items of one work-group along N and M on CPUs, where a group is a loop over its items. */
    private static final int CPU_PROJECTION_LOCAL_X = 1;
    private static final int CPU_PROJECTION_LOCAL_Y = 4;
    /** rnn_step's work-group along the unit blocks, at most. */
    private static final int STEP_LOCAL_X = 64;

    private KernelPlanner() {}

    /** The recurrence kernels; ROWS_FUSED is rnn_rows with the input projection done inside it. */
    public enum Variant {
        ROWS("rnn_rows", "VARIANT_ROWS"), ROWS_FUSED("rnn_rows", "VARIANT_ROWS"), GROUP("rnn_group", "VARIANT_GROUP"),
        STEP("rnn_step", "VARIANT_STEP"), TEAM("rnn_team", "VARIANT_TEAM");

        private final String kernel;
        private final int id;

        Variant(String kernel, String define) {
            this.kernel = kernel;
            this.id = KernelConstants.code("recurrence.cl", define);
        }

        public String kernel() {
            return kernel;
        }

        /** recurrence.cl's VARIANT. */
        int id() {
            return id;
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * How one forward's recurrence runs.
     *
     * @param items          ROWS(_FUSED): work-items per direction, each owning every items-th chunk of rows;
     *                       TEAM: work-items per direction, each owning a share of the unit blocks
     * @param groupRows      GROUP: batch rows per work-group
     * @param local          GROUP and STEP: work-items per work-group along the first dimension
     * @param stepsPerLaunch time steps one ROWS(_FUSED) or GROUP launch runs at most
     * @param wLocal         GROUP: W_hh^T copied into local memory
     * @param lane           the queue the whole forward runs on
     * @param shared         ROWS_FUSED on the latency lane: the calling thread runs the first share of the
     *                       work-items there, the device's worker threads the rest at the same time
     */
    public record RecurrencePlan(Variant variant, int items, int groupRows, int local, int stepsPerLaunch,
            boolean wLocal, Device.Lane lane, boolean shared) {
        RecurrencePlan(Variant variant, int items, int groupRows, int local, int stepsPerLaunch, boolean wLocal,
                Device.Lane lane) {
            this(variant, items, groupRows, local, stepsPerLaunch, wLocal, lane, false);
        }

        RecurrencePlan withWLocal(boolean wLocal) {
            return new RecurrencePlan(variant, items, groupRows, local, stepsPerLaunch, wLocal, lane, shared);
        }

        RecurrencePlan withItems(int items) {
            return new RecurrencePlan(variant, items, groupRows, local, stepsPerLaunch, wLocal, lane, shared);
        }

        /** Shared between the caller and the worker threads, or all on the worker threads (its throughput lane). */
        RecurrencePlan withShared(boolean value) {
            if (value && variant != Variant.ROWS_FUSED) {
                throw new IllegalArgumentException("only rnn_rows with the fused projection is shared, not " + this);
            }
            return new RecurrencePlan(variant, items, groupRows, local, stepsPerLaunch, wLocal,
                    value ? Device.Lane.LATENCY : Device.Lane.THROUGHPUT, value);
        }
    }

    /**
     * Projection tiles of one compiled kernel; nv*vecP divides the panel width, which divides ldn. With
     * {@code local}, the kernel is project_local and its tile is Tiles.LOCAL_M x Tiles.LOCAL_N.
     */
    public record ProjectionTiles(int vecP, int tm, int nv, int panel, boolean local) {
        public int tileN() {
            return local ? Tiles.LOCAL_N : nv * vecP;
        }

        public int tileM() {
            return local ? Tiles.LOCAL_M : tm;
        }

        public String kernel() {
            return local ? "project_local" : "project";
        }

        /** project_local's work-group: (columns, rows) of work-items. */
        long[] localSize() {
            return new long[] {Tiles.LOCAL_N / LOCAL_WORK_N, Tiles.LOCAL_M / LOCAL_WORK_M};
        }
    }

    /** Each work-item's share of project_local's tile (projection.cl's WPTM x WPTN). */
    static final int LOCAL_WORK_M = 4;
    static final int LOCAL_WORK_N = 4;
    /** project_local's local memory: its TSK x TSM tile of A and TSK x TSN tile of Wt (projection.cl, TSK = 16). */
    static final long LOCAL_TILE_BYTES = 4L * 16 * (Tiles.LOCAL_M + Tiles.LOCAL_N);

    public static Tiles tiles(DeviceInfo device, RnnConfig config) {
        int hidden = config.hiddenSize();
        int width = config.numDirections() * config.gates() * hidden;
        if (!device.isCpu()) {
            // GPUs: float4 loads, one vector of units per work-item, two rows per register block; the
            // projection tiled in local memory where a work-group can hold its 256 work-items.
            long group = (long) (Tiles.LOCAL_M / LOCAL_WORK_M) * (Tiles.LOCAL_N / LOCAL_WORK_N);
            return new Tiles(4, 4, 1, 4, 1, 2, false, false, GPU_PROJECTION_LOCAL_X, GPU_PROJECTION_LOCAL_Y,
                    device.maxWorkGroupSize() >= group && device.localMemBytes() >= LOCAL_TILE_BYTES);
        }
        int deviceVec = cpuVectorWidth(device);
        int vecR = Math.min(deviceVec, vectorFor(hidden));
        // Accumulators per register block: 16 of AVX-512's 32 registers (8 of AVX2's 16), leaving the rest
        // for W_hh^T vectors and broadcasts. One gate spends them on rows x 2 vectors of units, several
        // gates on rows x gates.
        int budget = deviceVec >= 16 ? 16 : 8;
        int gates = config.gates();
        int nvR = gates == 1 ? Math.min(2, Tiles.ceilDiv(hidden, vecR)) : 1;
        int tb = Integer.highestOneBit(Math.max(1, budget / (gates * nvR)));
        int vecP = Math.min(deviceVec, vectorFor(width));
        int nv = width > vecP ? 2 : 1;
        // 10 x 2 vectors: 20 of AVX-512's 32 registers hold accumulators, the best of 6, 8, 10 and 12
        // rows measured on the large-hidden and throughput shapes.
        return new Tiles(vecP, 10, nv, vecR, nvR, tb, true, true, CPU_PROJECTION_LOCAL_X, CPU_PROJECTION_LOCAL_Y,
                false);
    }

    /** The projection's tiles for a GEMM of {@code fmas} multiply-adds. */
    public static ProjectionTiles projectionTiles(WeightLayout layout, DeviceInfo device, long fmas) {
        Tiles t = layout.tiles();
        // Tiny products (the lab's 20 x 64 x 128) run far faster with a small tile on PoCL:
        // the big tile's vector accumulators cost more to set up than the work they do.
        if (t.smallTile() && device.isCpu() && fmas < SPLIT_THRESHOLD_FMAS / 2) {
            return new ProjectionTiles(t.vecP(), 4, 1, layout.panelP(), false);
        }
        return new ProjectionTiles(t.vecP(), t.tm(), t.nv(), layout.panelP(), t.localProjection());
    }

    /** Row tiles one projection launch covers: all of them, except on GPUs, where a launch stays short. */
    static long projectionTilesPerLaunch(DeviceInfo device, ProjectionTiles tiles, long mTiles, int ldn, int k) {
        if (!device.isGpu()) {
            return mTiles;
        }
        long fmasPerTile = (long) tiles.tileM() * ldn * Math.max(1, k);
        return Math.max(1, Math.min(mTiles, GPU_FMAS_PER_LAUNCH / fmasPerTile));
    }

    /** Work-group shape of the projection over an nTiles x mTiles grid, within the kernel's limit. */
    public static long[] projectionLocalSize(Tiles tiles, long nTiles, long mTiles, long maxWorkGroup) {
        long lx = Math.min(tiles.localX(), nTiles);
        long ly = Math.min(tiles.localY(), mTiles);
        while (lx * ly > maxWorkGroup) {
            if (ly > 1) {
                ly /= 2;
            } else {
                lx /= 2;
            }
        }
        return new long[] {Math.max(1, lx), Math.max(1, ly)};
    }

    /**
     * Whether rnn_rows computing each step's input projection itself beats a projection GEMM before it, on a CPU, at
     * any size: when the batch fills a register block (each W_ih^T vector then serves TB rows, as in the GEMM), no
     * layer's input is wider than its output, and W_ih^T stays in a core's cache (1 MiB) from step to step. Then the
     * P buffer's round trip through memory (T x B x G x H floats written, then read) and a launch are saved. Measured
     * on PoCL, 2 cores, rows against rows_fused: LSTM T30 B8 I64 H128 0.35 -> 0.30 ms, LSTM T50 B32 I128 H256 4.7 ->
     * 4.3, RNN T25 B16 I128 H128 0.28 -> 0.25, GRU T50 B32 I128 H128 1.46 -> 1.36, LSTM T100 B64 I256 H256 23.2 ->
     * 21.7, RNN T200 B16 I128 H512 9.5 -> 8.7; against it: GRU T50 B32 I512 H512 (W_ih^T 3 MiB) 16.5 -> 17.1, LSTM
     * T30 B8 I512 H128 (input 4x wider) 0.75 -> 0.80-0.87, and at batch 1, where each W_ih^T vector serves one row,
     * RNN T200 B1 I128 H128 0.13 -> 0.23, LSTM T200 B1 I128 H512 11.6 -> 13.2.
     */
    static boolean fusedProjectionPays(WeightLayout layout, int batch) {
        RnnConfig config = layout.config();
        int widest = 0;
        for (int layer = 0; layer < config.numLayers(); layer++) {
            widest = Math.max(widest, config.layerInputSize(layer));
        }
        long wihBytes = 4L * widest * config.gates() * config.hiddenSize();
        return batch >= layout.tiles().tb() && widest <= config.outputSize() && wihBytes <= FUSED_WIH_BYTES;
    }

    /** Whether the cell needs a second product within each step (it cannot take the fused projection). */
    static boolean twoPhase(RnnConfig config) {
        return config.projSize() > 0 || (config.mode() == CellType.GRU && !config.cell().linearBeforeReset());
    }

    /**
     * The recurrence of a forward over {@code seqLen} steps of {@code batch} rows, {@code rows} of them
     * valid (the sum of the lengths). {@code forced} names a variant (tests and tuning); null chooses:
     * CPUs run rnn_rows, with the projection fused in for tiny single-phase layers, or rnn_team when the
     * rows are too few to keep every compute unit busy and the work pays for a team; GPUs run rnn_group
     * when W_hh^T fits in local memory or the batch fills the chip with groups, else rnn_step.
     *
     * A device with an in-thread latency lane runs there the forwards that one work-item per direction
     * runs anyway, with one direction, or that are tiny.
     *
     * @param groupMaxWorkGroup CL_KERNEL_WORK_GROUP_SIZE of rnn_group (Long.MAX_VALUE when unknown)
     */
    public static RecurrencePlan recurrence(DeviceInfo device, WeightLayout layout, int seqLen, int batch, long rows,
            long groupMaxWorkGroup, Variant forced) {
        return recurrence(device, false, layout, seqLen, batch, rows, groupMaxWorkGroup, forced);
    }

    public static RecurrencePlan recurrence(DeviceInfo device, boolean latencyLane, WeightLayout layout, int seqLen,
            int batch, long rows, long groupMaxWorkGroup, Variant forced) {
        RnnConfig config = layout.config();
        int dirs = config.numDirections();
        long fmasPerRowStep = (long) config.gates() * config.hiddenSize() * (config.outputSize() + config.inputSize());
        long fmas = rows * dirs * fmasPerRowStep;
        int tb = layout.tiles().tb();
        int chunks = Tiles.ceilDiv(batch, tb);
        boolean wLocalFits = fitsLocal(device, layout);
        // rnn_rows: one work-item per direction when the work is latency-bound, else enough to fill the units
        int items = fmas < SPLIT_THRESHOLD_FMAS ? 1 : Math.min(chunks, Math.max(1, Tiles.ceilDiv(device.computeUnits(), dirs)));
        // rnn_team: never more items than compute units, whose threads must all run it at once; unless forced,
        // no more than have a unit block and TEAM_STEP_THRESHOLD_FMAS a step each to do between barriers
        int teamItems = Math.max(1, device.computeUnits() / dirs);
        if (forced != Variant.TEAM) {
            long worthwhile = fmas / Math.max(1, seqLen) / dirs / TEAM_STEP_THRESHOLD_FMAS;
            teamItems = (int) Math.min(teamItems, Math.min(layout.unitBlocks(), worthwhile));
        }
        boolean team = device.isCpu() && chunks < teamItems && fmas >= TEAM_THRESHOLD_FMAS;
        boolean latency = latencyLane && !team && (items == 1 && dirs == 1 || fmas < LATENCY_LANE_FMAS);
        Variant variant = forced;
        if (variant == null) {
            if (team) {
                variant = Variant.TEAM;
            } else if (device.isCpu()) {
                // In the calling thread a launch costs little, but the projection's round trip through P still
                // does: the latency lane fuses everything it takes.
                long fuseBelow = latency ? LATENCY_LANE_FMAS : FUSE_THRESHOLD_FMAS;
                variant = !twoPhase(config) && (fmas < fuseBelow || fusedProjectionPays(layout, batch))
                        ? Variant.ROWS_FUSED : Variant.ROWS;
            } else {
                variant = wLocalFits && device.localMemIsDedicated() || chunks * dirs >= device.computeUnits()
                        ? Variant.GROUP : Variant.STEP;
            }
        }
        if (variant == Variant.ROWS_FUSED && twoPhase(config)) {
            throw new IllegalArgumentException("the fused projection serves single-phase cells only, not " + config);
        }
        if (variant == Variant.TEAM && !device.isCpu()) {
            // A GPU's caches are not coherent across work-groups: h from another group needs volatile reads.
            throw new IllegalArgumentException("rnn_team runs on CPU devices only, not on " + device.name());
        }
        int unitBlocks = layout.unitBlocks();
        return switch (variant) {
            case ROWS, ROWS_FUSED -> {
                // A fused forward is one command per layer: with the caller's lane holding the rest, the caller
                // shares the work-items with the device's worker threads instead of waiting for them.
                boolean shared = latencyLane && !latency && variant == Variant.ROWS_FUSED && items * dirs > 1
                        && fmas < SHARED_FMAS;
                yield new RecurrencePlan(variant, items, batch, 1,
                        stepsPerLaunch(device, layout, (long) Tiles.ceilDiv(chunks, items) * tb), false,
                        latency || shared ? Device.Lane.LATENCY : Device.Lane.THROUGHPUT, shared);
            }
            // the team needs its items running at once: the device's worker threads, never the calling thread
            case TEAM -> new RecurrencePlan(variant, teamItems, batch, 1, Integer.MAX_VALUE, false,
                    Device.Lane.THROUGHPUT);
            case GROUP -> {
                // Enough groups to fill the compute units when the batch allows, each a whole number of chunks.
                int groups = Math.max(1, Math.min(chunks, Tiles.ceilDiv(device.computeUnits(), dirs)));
                int groupRows = Tiles.ceilDiv(chunks, groups) * tb;
                long work = (long) Tiles.ceilDiv(groupRows, tb) * unitBlocks;
                long local = Math.min(Math.min(GPU_GROUP_MAX, groupMaxWorkGroup),
                        Math.max(Math.min(GPU_GROUP_MIN, groupMaxWorkGroup), Tiles.roundUp(work, GPU_GROUP_MIN)));
                boolean wLocal = wLocalFits && device.localMemIsDedicated();
                yield new RecurrencePlan(variant, 1, groupRows, (int) local,
                        stepsPerLaunch(device, layout, groupRows), wLocal, Device.Lane.THROUGHPUT);
            }
            // on CPUs a work-group is one thread's loop: one group per compute unit
            case STEP -> new RecurrencePlan(variant, 1, tb, (int) Math.min(STEP_LOCAL_X,
                    device.isCpu() ? Tiles.ceilDiv(unitBlocks, device.computeUnits()) : unitBlocks), 1, false,
                    Device.Lane.THROUGHPUT);
        };
    }

    /** rnn_step's work-group shape within the kernel's limit: (unit blocks, row chunks, 1). */
    static long[] stepLocalSize(RecurrencePlan plan, int chunks, long maxWorkGroup) {
        long lx = Math.max(1, Math.min(plan.local(), maxWorkGroup));
        long ly = Math.max(1, Math.min(chunks, maxWorkGroup / lx));
        return new long[] {lx, ly, 1};
    }

    /** All steps in one launch, except on GPUs, where a launch stays short enough for any watchdog. */
    private static int stepsPerLaunch(DeviceInfo device, WeightLayout layout, long rows) {
        if (!device.isGpu()) {
            return Integer.MAX_VALUE;
        }
        RnnConfig config = layout.config();
        long fmasPerStep = rows * config.numDirections() * layout.directionWidth()
                * (config.outputSize() + config.hiddenSize());
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, GPU_FMAS_PER_LAUNCH / Math.max(1, fmasPerStep)));
    }

    /** Bytes of rnn_group's local W_hh^T copy. */
    static long localWeightBytes(WeightLayout layout) {
        return 4L * layout.config().outputSize() * layout.directionWidth();
    }

    /** Whether rnn_group can keep W_hh^T in the device's local memory; only dedicated local memory pays. */
    static boolean fitsLocal(DeviceInfo device, WeightLayout layout) {
        return localWeightBytes(layout) + LOCAL_MEM_MARGIN_BYTES <= device.localMemBytes();
    }

    /** 16 on AVX-512, 8 on AVX2, else what the device prefers, at least 4. */
    static int cpuVectorWidth(DeviceInfo device) {
        int preferred = device.preferredFloatVectorWidth();
        return preferred >= 16 ? 16 : preferred >= 8 ? 8 : 4;
    }

    /** The smallest OpenCL vector width (2, 4, 8, 16) that covers n, so tiny layers waste few lanes. */
    static int vectorFor(int n) {
        int v = 2;
        while (v < 16 && v < n) {
            v *= 2;
        }
        return v;
    }
}
