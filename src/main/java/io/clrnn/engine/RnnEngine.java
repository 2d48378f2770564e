package io.clrnn.engine;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.RnnOutput;
import io.clrnn.base.WeightsDtype;
import io.clrnn.device.ClBuffer;
import io.clrnn.device.ClKernel;
import io.clrnn.device.Device;
import io.clrnn.device.KernelCache;
import io.clrnn.device.Profile;
import io.clrnn.model.Forward;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The forward pass of any recurrent module on one OpenCL device: weights uploaded once in the layouts
 * the kernels want, then per call one upload (X, h_0, c_0 and the step table), a projection and a
 * recurrence per layer (every direction at once), and one read of out, h_n and c_n. Sequences of
 * different lengths are packed as a PackedSequence, so padded steps cost nothing. Buffers grow as
 * needed and are reused across calls. Not thread-safe: {@link io.clrnn.Rnn} serialises calls.
 */
public final class RnnEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RnnEngine.class);
    /** The families a profile sums the engine's kernels by ({@link Profile#nanosByFamily}). */
    public static final String PROJECTION = "projection";
    public static final String RECURRENCE = "recurrence";
    /** Host transfers go through one direct ByteBuffer each way, which holds at most 2 GiB. */
    static final long MAX_TRANSFER_BYTES = Integer.MAX_VALUE - 4096;

    private final Device device;
    private final RnnConfig config;
    private final WeightLayout layout;
    private final WeightsDtype dtype;
    /** Bit d set when direction d walks the steps backwards: the kernels' reverse_mask. */
    private final int reverseMask;
    private final List<LayerWeights> layers = new ArrayList<>();
    private final Workspace workspace;
    /** Every kernel object the engine launches: state moves, projections, recurrences. */
    private final KernelCache kernels = new KernelCache();
    private final TeamBarrier team;
    private final RecurrencePlans plans;

    public RnnEngine(Device device, RnnWeights weights) {
        this(device, weights, WeightsDtype.F32);
    }

    public RnnEngine(Device device, RnnWeights weights, WeightsDtype dtype) {
        this(device, weights, dtype, KernelPlanner.tiles(device.info(), weights.config()));
    }

    /** With explicit tiles: for tests and tuning; {@link KernelPlanner#tiles} gives the default. */
    RnnEngine(Device device, RnnWeights weights, WeightsDtype dtype, Tiles tiles) {
        this.device = device;
        this.config = weights.config();
        this.layout = WeightLayout.of(config, tiles);
        int mask = 0;
        for (int d = 0; d < config.numDirections(); d++) {
            mask |= config.direction().reverse(d) ? 1 << d : 0;
        }
        this.reverseMask = mask;
        this.dtype = dtype;
        this.workspace = new Workspace(device, layout);
        this.team = new TeamBarrier(device);
        this.plans = new RecurrencePlans(device, layout, dtype, kernels, team);
        try {
            for (int layer = 0; layer < config.numLayers(); layer++) {
                layers.add(LayerWeights.upload(device, workspace, weights, layout, dtype, layer));
            }
            workspace.finishUploads();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        log.debug("{} on {}: {}", config, device, layout);
    }

    public RnnConfig config() {
        return config;
    }

    /** The recurrence plans, with their test and tuning overrides. */
    RecurrencePlans plans() {
        return plans;
    }

    TeamBarrier team() {
        return team;
    }

    WeightLayout layout() {
        return layout;
    }

    /** {@code f}'s out, h_n and c_n, in new arrays: the forward of {@link io.clrnn.Rnn#forward}. */
    public RnnOutput forward(Forward f, Profile profile) {
        long t = Timer.start(profile);
        RnnOutput results = f.zeroResults();
        Timer.stop(profile, Profile.Host.ALLOCATE, t);
        forward(f, new HostIo(results.output(), results.hidden(), results.cell(), null), profile);
        return results;
    }

    /**
     * The engine's one entrance: forward {@code f}, its results to where {@code io} says. Into the caller's arrays,
     * a batch whose buffers or transfers would exceed the device's limits or 2 GiB runs in slices of the batch;
     * sequences never interact, so the result is the same. From and into device buffers, it takes full-length,
     * time-major sequences, and returns false, having done nothing, when the batch would have to run in slices: the
     * caller then takes the host path. With a stream's {@code io.state()}, a sequence of length 0 keeps its state.
     */
    public boolean forward(Forward f, ForwardIo io, Profile profile) {
        StateBuffers state = io.state();
        if (state != null && (!state.config().equals(config) || state.batch() != f.batch())) {
            throw new IllegalArgumentException("a state for " + state.batch() + " sequences of " + state.config()
                    + " given to a forward of " + f.batch() + " of " + config);
        }
        if (f.config() != config && !f.config().equals(config)) {
            throw new IllegalArgumentException("a forward of " + f.config() + " given to an engine of " + config);
        }
        int[] sorted = PackedBatch.sortedOrder(f);
        if (sorted.length == 0) {
            return true;
        }
        int slice = largestSliceThatFits(f, sorted);
        try {
            if (io instanceof DeviceIo dio) {
                if (!f.fullLength() || f.batchMajor()) {
                    throw new IllegalArgumentException("a forward on the device takes full-length, time-major "
                            + "sequences");
                }
                if (slice < sorted.length) {
                    return false;
                }
                runOnDevice(PackedBatch.of(f, sorted, 0, sorted.length), f, dio, profile);
                return true;
            }
            HostIo hio = (HostIo) io;
            if (f.x() == null) {
                throw new IllegalArgumentException("a forward into host arrays reads X from the host; this one's X "
                        + "lies on the device");
            }
            for (int from = 0; from < sorted.length; from += slice) {
                run(PackedBatch.of(f, sorted, from, Math.min(sorted.length, from + slice)), f, hio, profile);
            }
            return true;
        } catch (RuntimeException e) {
            throw drained(e);
        }
    }

    /** {@code e}, once what was enqueued is drained, so that the staging areas are free again for the next call. */
    private RuntimeException drained(RuntimeException e) {
        try {
            device.finish();
        } catch (RuntimeException suppressed) {
            e.addSuppressed(suppressed);
        }
        return e;
    }

    /** The lane a forward of {@code f} will run on: the caller's commands there need no wait. */
    public Device.Lane laneFor(Forward f) {
        return recurrencePlan(f).lane();
    }

    /** One device-to-device forward; a team that gives up runs it again with rnn_rows. */
    private void runOnDevice(PackedBatch batch, Forward f, DeviceIo dio, Profile profile) {
        Prepared p = prepare(batch);
        Device.Lane lane = p.planned.plan().lane();
        Device.Lane order = dio.order();
        StateBuffers state = dio.state();
        if (lane != order) {
            device.finish(order); // X is written by commands of the other queue
        }
        // The caller's X and Y themselves where the kernels can take them as they are: no copy in or out
        boolean xInPlace = p.planned.plan().variant() == KernelPlanner.Variant.ROWS_FUSED && fits(dio.x(), dio.xOffset(),
                batch.rows() * config.inputSize());
        boolean yInPlace = (config.numDirections() == 1 || dio.yBatchBeforeDirection())
                && fits(dio.y(), dio.yOffset(), batch.rows() * config.numDirections() * config.outputSize());
        workspace.uploadFromDevice(lane, batch, xInPlace ? null : dio.x(), dio.xOffset(), f, p.sizes,
                state != null, profile);
        StateIo states = stateIo(batch, p.sizes, state);
        loadStates(lane, batch, p.sizes, state, states, profile);
        runLayers(p, batch, states, xInPlace ? dio.x() : workspace.in, yInPlace ? dio.y() : null, profile);
        if (p.planned.plan().variant() == KernelPlanner.Variant.TEAM) {
            team.readFlag(lane);
            device.finish(lane);
            if (team.gaveUp()) {
                rerunWithoutTeam(p.planned.plan(), () -> runOnDevice(batch, f, dio, profile));
                return;
            }
        }
        workspace.copyResults(lane, batch, p.sizes, dio, !yInPlace, states.hn, states.hnOff, states.c, states.cOff,
                profile);
        storeStates(lane, batch, p.sizes, state, states, profile);
        if (lane != order) {
            device.finish(lane); // the caller's next commands go to the other queue
        }
    }

    /** The largest slice of the batch (longest sequences first) whose buffers and transfers fit. */
    private int largestSliceThatFits(Forward f, int[] sorted) {
        long maxBuffer = Math.min(plans.tuning().maxBufferBytes(), device.info().maxAllocBytes());
        // Leave a tenth of global memory to the weights, the runtime and other users.
        long total = Math.min(plans.tuning().totalBytes(), device.info().globalMemBytes() / 10 * 9);
        long transfer = Math.min(plans.tuning().maxTransferBytes(), MAX_TRANSFER_BYTES);
        int n = sorted.length;
        while (n > 0) {
            WorkspaceLayout s = WorkspaceLayout.of(layout, f.seqLen(), n, PackedBatch.rows(f, sorted, 0, n));
            if (s.largestBuffer() <= maxBuffer && s.allBuffers() <= total && s.largestTransfer() <= transfer) {
                return n;
            }
            n /= 2;
        }
        WorkspaceLayout one = WorkspaceLayout.of(layout, f.seqLen(), 1, f.seqLen());
        throw new InvalidInputException(String.format(Locale.ROOT,
                "input too large for %s: seq_len %d needs %s for a single sequence (largest buffer %s, "
                        + "largest transfer %s); the device allows %s per buffer and %s in all, a transfer %s",
                device.info().name(), f.seqLen(), WorkspaceLayout.mib(one.allBuffers()),
                WorkspaceLayout.mib(one.largestBuffer()), WorkspaceLayout.mib(one.largestTransfer()),
                WorkspaceLayout.mib(maxBuffer), WorkspaceLayout.mib(total), WorkspaceLayout.mib(transfer)));
    }

    /** One forward of one slice: one upload, every layer, one read back. */
    private void run(PackedBatch batch, Forward f, HostIo io, Profile profile) {
        Prepared p = prepare(batch);
        Device.Lane lane = p.planned.plan().lane();
        StateBuffers state = io.state();
        workspace.upload(lane, batch, f, p.sizes, profile);
        StateIo states = stateIo(batch, p.sizes, state);
        loadStates(lane, batch, p.sizes, state, states, profile);
        runLayers(p, batch, states, workspace.in, null, profile);
        boolean teamed = p.planned.plan().variant() == KernelPlanner.Variant.TEAM;
        if (teamed) {
            team.readFlag(lane);
        }
        workspace.download(lane, batch, f.strides(), p.sizes, io.out(), io.hn(), io.cn(), profile);
        if (teamed && team.gaveUp()) {
            // Every row the team wrote is written again; the rest of the caller's arrays was never touched.
            rerunWithoutTeam(p.planned.plan(), () -> run(batch, f, io, profile));
            return;
        }
        storeStates(lane, batch, p.sizes, state, states, profile); // only now: a rerun starts from the states as they were
    }

    /**
     * Where the first layer reads h_0 and c_0 and the layers write h_n and c_n (c being the running cell state): in
     * the workspace, by the slice's packed order; or, for a stream's forward of its whole batch in the caller's
     * order, straight from one side of the state into the other.
     */
    private record StateIo(ClBuffer h0, long h0Off, ClBuffer hn, long hnOff, ClBuffer c0, long c0Off, ClBuffer c,
            long cOff, boolean direct) {}

    private StateIo stateIo(PackedBatch batch, WorkspaceLayout sizes, StateBuffers state) {
        if (state != null && batch.batch() == state.batch() && batch.inCallersOrder()) {
            boolean cell = state.c() != null;
            return new StateIo(state.h(), 0, state.nextH(), 0, cell ? state.c() : workspace.in, cell ? 0
                    : sizes.c0Offset(), cell ? state.nextC() : workspace.lastOutput(), cell ? 0 : sizes.cnOffset(),
                    true);
        }
        ClBuffer last = workspace.lastOutput();
        return new StateIo(workspace.in, sizes.h0Offset(), last, sizes.hnOffset(), workspace.in, sizes.c0Offset(), last,
                sizes.cnOffset(), false);
    }

    /** A stream's states, gathered into the slice's packed order where the first layer reads h_0 and c_0. */
    private void loadStates(Device.Lane lane, PackedBatch batch, WorkspaceLayout sizes, StateBuffers state, StateIo io,
            Profile profile) {
        if (state == null) {
            return;
        }
        state.before(lane);
        if (io.direct) {
            return;
        }
        moveStates("gather_states", lane, batch, sizes, state.h(), sizes.h0Offset(), workspace.in,
                config.outputSize(), profile);
        if (state.c() != null) {
            moveStates("gather_states", lane, batch, sizes, state.c(), sizes.c0Offset(), workspace.in,
                    config.hiddenSize(), profile);
        }
    }

    /** The slice's final states, scattered from the last layer's output back into the stream's rows. */
    private void storeStates(Device.Lane lane, PackedBatch batch, WorkspaceLayout sizes, StateBuffers state, StateIo io,
            Profile profile) {
        if (state == null) {
            return;
        }
        if (io.direct) {
            state.swap(lane);
            return;
        }
        moveStates("scatter_states", lane, batch, sizes, state.h(), sizes.hnOffset(), workspace.lastOutput(),
                config.outputSize(), profile);
        if (state.c() != null) {
            moveStates("scatter_states", lane, batch, sizes, state.c(), sizes.cnOffset(), workspace.lastOutput(),
                    config.hiddenSize(), profile);
        }
        state.writtenOn(lane);
    }

    private void moveStates(String name, Device.Lane lane, PackedBatch batch, WorkspaceLayout sizes, ClBuffer states,
            long packedOffset, ClBuffer packed, int width, Profile profile) {
        ClKernel k = kernels.get(new KernelCache.Key("state.cl", name, null),
                () -> device.program("", "state.cl").kernel(name));
        long t = Timer.start(profile);
        k.arg("states", states).arg("packed", packed).arg("packed_off", packedOffset).arg("order", workspace.in)
                .arg("order_off", sizes.orderOffset()).arg("n", batch.batch()).arg("batch", batch.callerBatch())
                .arg("width", width);
        Timer.stop(profile, Profile.Host.ARGUMENTS, t);
        long slots = (long) config.numLayers() * config.numDirections();
        device.run(lane, k, new long[] {width, batch.batch(), slots}, null, profile, Profile.TRANSFER);
    }

    /** A slice's projection tiles, buffer sizes (the workspace grown to them) and recurrence plan. */
    private record Prepared(KernelPlanner.ProjectionTiles tiles, WorkspaceLayout sizes, RecurrencePlans.Planned planned) {}

    private Prepared prepare(PackedBatch batch) {
        int rows = batch.rows();
        KernelPlanner.ProjectionTiles tiles = KernelPlanner.projectionTiles(layout, device.info(),
                (long) rows * layout.ldn() * config.inputSize());
        WorkspaceLayout sizes = WorkspaceLayout.of(layout, batch.seqLen(), batch.batch(), rows, tiles.tileM());
        workspace.ensure(sizes);
        return new Prepared(tiles, sizes, plans.plan(batch.seqLen(), batch.batch(), rows));
    }

    /**
     * Whether a caller's buffer, read from float {@code offset}, holds {@code floats} and the slack the kernels may
     * read past a row's ragged edge: then they can take it as it is (an offset other than 0 they cannot).
     */
    private static boolean fits(ClBuffer buffer, long offset, long floats) {
        return offset == 0 && buffer.bytes() >= (floats + WorkspaceLayout.SLACK) * 4;
    }

    /**
     * Every layer of an uploaded slice: its projection (unless fused) and its recurrence; the first reads
     * {@code input} (packed rows from 0), the last writes {@code output} (null: the workspace's).
     */
    private void runLayers(Prepared p, PackedBatch batch, StateIo states, ClBuffer input, ClBuffer output,
            Profile profile) {
        Device.Lane lane = p.planned.plan().lane();
        if (profile != null) {
            profile.recurrence(p.planned.plan().variant().label() + (p.planned.plan().shared() ? " (shared)"
                    : lane == Device.Lane.LATENCY ? " (latency lane)" : ""));
        }
        ClBuffer layerIn = input;
        for (int layer = 0; layer < config.numLayers(); layer++) {
            LayerWeights w = layers.get(layer);
            ClBuffer layerOut = output != null && layer == config.numLayers() - 1 ? output : workspace.y[layer % 2];
            if (p.planned.plan().variant() != KernelPlanner.Variant.ROWS_FUSED) {
                runProjection(lane, p.tiles, layerIn, batch.rows(), config.layerInputSize(layer), p.sizes.paddedRows(),
                        w, profile);
            }
            runRecurrence(p.planned, batch, p.sizes, states, layer, w, layerIn, layerOut, profile);
            layerIn = layerOut;
        }
    }

    /** Runs the slice again with rnn_rows, after its team gave up. */
    private void rerunWithoutTeam(KernelPlanner.RecurrencePlan plan, Runnable rerun) {
        team.rerunWithoutTeam(device, plan.items() * config.numDirections(), rerun);
    }

    private void runProjection(Device.Lane lane, KernelPlanner.ProjectionTiles tiles, ClBuffer a, int rows, int k,
            long paddedRows, LayerWeights w, Profile profile) {
        ClKernel project = kernels.get(new KernelCache.Key("projection.cl", tiles.kernel(), tiles),
                () -> device.program(KernelSources.projection(tiles, dtype, device.info()), "common.cl", "projection.cl")
                        .kernel(tiles.kernel()));
        long nTiles = layout.ldn() / tiles.tileN();
        long mTiles = paddedRows / tiles.tileM();
        long t = Timer.start(profile);
        project.arg("n_tiles", (int) nTiles).arg("M", rows).arg("K", k).arg("lda", k).arg("ldn", layout.ldn()).arg("A", a)
                .arg("Wt", w.wihT()).arg("bias", w.bias()).arg("P", workspace.p);
        long[] local = tiles.local() ? tiles.localSize()
                : KernelPlanner.projectionLocalSize(layout.tiles(), nTiles, mTiles, device.maxWorkGroupSize(project));
        long perLaunch = KernelPlanner.projectionTilesPerLaunch(device.info(), tiles, mTiles, layout.ldn(), k);
        Timer.stop(profile, Profile.Host.ARGUMENTS, t);
        for (long first = 0; first < mTiles; first += perLaunch) {
            long count = Math.min(perLaunch, mTiles - first);
            project.arg("m_first", Math.toIntExact(first)).arg("m_tiles", Math.toIntExact(count));
            long[] global = tiles.local() ? new long[] {nTiles * local[0], count * local[1]}
                    : new long[] {Tiles.roundUp(nTiles, local[0]), Tiles.roundUp(count, local[1])};
            t = Timer.start(profile);
            device.run(lane, project, global, local, profile, PROJECTION);
            Timer.stop(profile, Profile.Host.ENQUEUE, t);
        }
    }

    private void runRecurrence(RecurrencePlans.Planned planned, PackedBatch batch, WorkspaceLayout sizes, StateIo io,
            int layer, LayerWeights w, ClBuffer layerIn, ClBuffer layerOut, Profile profile) {
        KernelPlanner.RecurrencePlan plan = planned.plan();
        Device.Lane lane = plan.lane();
        ClKernel k = planned.kernel();
        int dirs = config.numDirections();
        int n = batch.batch();
        int seqLen = batch.seqLen();
        long states = (long) layer * dirs * n;
        long t = Timer.start(profile);
        k.arg("T", seqLen).arg("B", n).arg("D", dirs).arg("H", config.hiddenSize()).arg("Hp", layout.hp())
                .arg("H_out", config.outputSize()).arg("Pp", layout.pp()).arg("ldp", layout.ldn())
                .arg("ldy", dirs * config.outputSize()).arg("K", config.layerInputSize(layer))
                .arg("reverse_mask", reverseMask)
                .arg("table", workspace.in).arg("table_off", sizes.tableOffset())
                .arg("P", workspace.p).arg("W", w.whhT()).arg("Y", layerOut)
                .arg("h0", io.h0).arg("h0_off", io.h0Off + states * config.outputSize())
                .arg("hn", io.hn).arg("hn_off", io.hnOff + states * config.outputSize())
                .arg("c0", io.c0).arg("c0_off", io.c0Off + states * config.hiddenSize())
                .arg("c", io.c).arg("c_off", io.cOff + states * config.hiddenSize())
                .arg("scratch", workspace.scratch()).arg("Whr", w.whrT()).arg("bhn", w.bhn()).arg("peep", w.peep())
                .arg("A", layerIn).arg("Wih", w.wihT()).arg("bias", w.bias());
        int steps = (int) Math.max(1,
                Math.min(Math.min(plan.stepsPerLaunch(), plans.tuning().maxStepsPerLaunch()), seqLen));
        Timer.stop(profile, Profile.Host.ARGUMENTS, t);
        switch (plan.variant()) {
            case ROWS, ROWS_FUSED -> {
                k.arg("items", plan.items());
                if (plan.shared()) {
                    runShared(k, seqLen, steps, plan.items(), dirs, profile);
                } else {
                    runSteps(lane, k, seqLen, steps, new long[] {plan.items(), dirs}, new long[] {1, 1}, 0, profile);
                }
            }
            case TEAM -> {
                k.arg("sync", team.buffer(lane));
                int phases = KernelPlanner.twoPhase(config) ? 2 : 1;
                runSteps(lane, k, seqLen, steps, new long[] {plan.items(), dirs}, new long[] {1, 1},
                        phases * plan.items() * dirs, profile);
            }
            case GROUP -> {
                k.arg("BG", plan.groupRows()).localArg("w_local", plan.wLocal() ? KernelPlanner.localWeightBytes(layout) : 4);
                long groups = Tiles.ceilDiv(n, plan.groupRows());
                runSteps(lane, k, seqLen, steps, new long[] {groups * plan.local(), dirs},
                        new long[] {plan.local(), 1}, 0, profile);
            }
            case STEP -> {
                int chunks = Tiles.ceilDiv(n, layout.tiles().tb());
                long unitBlocks = layout.unitBlocks();
                long[] local = KernelPlanner.stepLocalSize(plan, chunks, device.maxWorkGroupSize(k));
                long[] global = {Tiles.roundUp(unitBlocks, local[0]), Tiles.roundUp(chunks, local[1]), dirs};
                int phases = KernelPlanner.twoPhase(config) ? 2 : 1;
                for (int s = 0; s < seqLen; s++) {
                    for (int phase = 0; phase < phases; phase++) {
                        k.arg("s", s).arg("phase", phase);
                        long e = Timer.start(profile);
                        device.run(lane, k, global, local, profile, RECURRENCE);
                        Timer.stop(profile, Profile.Host.ENQUEUE, e);
                    }
                }
            }
        }
    }

    /**
     * Launches a whole-sequence kernel over [s, s + steps) ranges until every step ran; rnn_team's launches
     * also learn where its barrier's count stands, {@code arrivalsPerStep} more after each step.
     */
    private void runSteps(Device.Lane lane, ClKernel k, int seqLen, int steps, long[] global, long[] local,
            int arrivalsPerStep, Profile profile) {
        forEachLaunch(k, seqLen, steps, arrivalsPerStep, profile,
                () -> device.run(lane, k, global, local, profile, RECURRENCE));
    }

    /** For each [s, s + steps) range of the sequence: its arguments set, then {@code launch}, timed as enqueueing. */
    private void forEachLaunch(ClKernel k, int seqLen, int steps, int arrivalsPerStep, Profile profile,
            Runnable launch) {
        for (int s = 0; s < seqLen; s += steps) {
            int end = Math.min(seqLen, s + steps);
            k.arg("s_begin", s).arg("s_end", end);
            if (arrivalsPerStep > 0) {
                k.arg("sync_base", team.arrivals());
            }
            long t = Timer.start(profile);
            launch.run();
            Timer.stop(profile, Profile.Host.ENQUEUE, t);
            team.arrived(arrivalsPerStep * (end - s)); // once enqueued
        }
    }

    /**
     * rnn_rows over (items, dirs) work-items, shared: the device's worker threads start on all but the caller's share
     * (a share of the items, or direction 0 when there is one item per direction), and the calling thread runs its
     * share meanwhile on the latency lane, then waits for the workers. The forward's other commands are on the
     * latency lane too, so the workers get one command a layer: the hand-overs of the upload and the read-back are
     * saved, and the workers' wake-up overlaps the caller's work (LSTM T30 B8 I64 H128 on PoCL, 2 cores: 0.30 ms
     * on the worker threads alone, 0.27 shared and slept on, 0.26 polled for). A profile's device time is the
     * workers' share, which ends last.
     */
    private void runShared(ClKernel k, int seqLen, int steps, int items, int dirs, Profile profile) {
        boolean byItem = items > 1;
        int callerItems = byItem ? Math.max(1, items / device.info().computeUnits()) : 1;
        long[] callerGlobal = {callerItems, byItem ? dirs : 1};
        long[] workerOffset = byItem ? new long[] {callerItems, 0} : new long[] {0, 1};
        long[] workerGlobal = byItem ? new long[] {items - callerItems, dirs} : new long[] {1, dirs - 1};
        long[] one = {1, 1};
        forEachLaunch(k, seqLen, steps, 0, profile, () -> {
            device.finish(Device.Lane.LATENCY); // the workers read what the caller's lane wrote
            if (workerGlobal[0] * workerGlobal[1] == 0) {
                device.run(Device.Lane.LATENCY, k, callerGlobal, one, profile, RECURRENCE);
                return;
            }
            Device.Running workers = device.start(k, workerOffset, workerGlobal, one, profile, RECURRENCE);
            long callerStart = System.nanoTime();
            try {
                device.run(Device.Lane.LATENCY, k, callerGlobal, one, null, RECURRENCE);
            } finally {
                // The workers' share is about as long as the caller's and began a wake-up later: it is about to
                // end, so poll for it (as long as the caller's share took at most) rather than sleep on it.
                workers.await(System.nanoTime() - callerStart);
            }
        });
    }

    /** The recurrence plan a forward of this shape would use. */
    KernelPlanner.RecurrencePlan recurrencePlan(Forward f) {
        int[] sorted = PackedBatch.sortedOrder(f);
        return plans.plan(f.seqLen(), f.batch(), PackedBatch.rows(f, sorted, 0, sorted.length)).plan();
    }

    @Override
    public void close() {
        kernels.close();
        layers.forEach(LayerWeights::close);
        layers.clear();
        workspace.close();
        if (team != null) {
            team.close();
        }
    }
}
