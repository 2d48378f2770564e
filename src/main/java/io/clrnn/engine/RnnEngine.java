package io.clrnn.engine;

import io.clrnn.Nonlinearity;
import io.clrnn.RnnOutput;
import io.clrnn.Tensor;
import io.clrnn.device.ClBuffer;
import io.clrnn.device.ClKernel;
import io.clrnn.device.Device;
import io.clrnn.device.Profile;
import io.clrnn.model.ForwardShape;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The forward pass on one OpenCL device: weights uploaded once in the layouts the kernels want,
 * then per call one upload of X and h_0, a projection and a recurrence per layer (both directions
 * at once), and one read of out and h_n. Buffers grow as needed and are reused across calls.
 * Not thread-safe: {@link io.clrnn.Rnn} serialises calls.
 */
public final class RnnEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RnnEngine.class);
    private static final String[] PROJECTION = {"common.cl", "projection.cl"};
    private static final String[] RECURRENCE = {"common.cl", "recurrence.cl"};

    private final Device device;
    private final RnnConfig config;
    private final KernelPlan.Layout layout;
    private final List<LayerBuffers> layers = new ArrayList<>();
    /** Compiled kernels, made on first use: recurrence ones by name and build options, projections by tiles. */
    private final Map<String, ClKernel> kernels = new HashMap<>();
    private final Map<KernelPlan.ProjectionTiles, ClKernel> projectionKernels = new HashMap<>();
    private final Workspace workspace;

    // Overrides for tests and tuning; the defaults leave every choice to KernelPlan and the device.
    private KernelPlan.Variant forcedVariant;
    private int stepsCap = Integer.MAX_VALUE;
    private long maxBufferBytes = Long.MAX_VALUE;
    private long totalBytes = Long.MAX_VALUE;

    /** The plan of the last shape seen: services call forward with the same shape again and again. */
    private CachedPlan lastPlan;

    /** Per layer: W_ih^T of both directions side by side (K, ldn), the summed bias (ldn), W_hh^T (D, H, hp). */
    private record LayerBuffers(ClBuffer wihT, ClBuffer bias, ClBuffer whhT) {}

    public RnnEngine(Device device, RnnWeights weights) {
        this(device, weights, KernelPlan.layout(device.info(), weights.config()));
    }

    /** With explicit tiles: for tests and tuning; {@link KernelPlan#layout} gives the default. */
    public RnnEngine(Device device, RnnWeights weights, KernelPlan.Layout layout) {
        this.device = device;
        this.config = weights.config();
        this.layout = layout;
        this.workspace = new Workspace(device);
        try {
            projectionKernel(layout.projectionTiles(device.info(), Long.MAX_VALUE));
            for (int layer = 0; layer < config.numLayers(); layer++) {
                layers.add(upload(weights, layer));
            }
            device.finish();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        log.debug("{} on {}: {}", config, device, layout);
    }

    public KernelPlan.Layout layout() {
        return layout;
    }

    /** Runs {@code variant} from now on whatever the plan would choose (null: choose again); for tests and tuning. */
    public void forceVariant(KernelPlan.Variant variant) {
        forcedVariant = variant;
        lastPlan = null;
    }

    /**
     * Caps the time steps of one ROWS(_FUSED) or SEQUENCE launch (as a GPU watchdog would need), so tests
     * can check on any device that a sequence split over launches gives the same answer.
     */
    public void maxStepsPerLaunch(int steps) {
        stepsCap = steps;
        lastPlan = null;
    }

    /** The recurrence plan a forward of this shape would use. */
    public KernelPlan.Recurrence recurrencePlan(ForwardShape shape) {
        return plan(shape).plan;
    }

    /**
     * Runs a forward on a shape that {@link ForwardShape#check} accepted. A batch whose buffers would
     * exceed the device's allocation limits runs in slices of the batch; batch rows never interact,
     * so the result is the same.
     */
    public RnnOutput forward(ForwardShape shape, Tensor x, Tensor h0, Profile profile) {
        Tensor out = Tensor.zeros(shape.outputShape());
        Tensor hn = Tensor.zeros(shape.hiddenShape());
        int batch = shape.batch();
        if (batch == 0) {
            return new RnnOutput(out, hn);
        }
        int slice = largestBatchThatFits(shape.seqLen(), batch);
        try {
            if (slice >= batch) {
                run(shape, x.data(), h0 == null ? null : h0.data(), out.data(), hn.data(), profile);
            } else {
                BatchSlicer slicer = new BatchSlicer(shape, config);
                for (int b0 = 0; b0 < batch; b0 += slice) {
                    int n = Math.min(slice, batch - b0);
                    ForwardShape part = new ForwardShape(config, shape.seqLen(), n, false);
                    float[] partOut = new float[shape.seqLen() * n * shape.outputWidth()];
                    float[] partHn = new float[config.numLayers() * config.numDirections() * n * config.hiddenSize()];
                    run(part, slicer.rows(x.data(), config.inputSize(), b0, n),
                            h0 == null ? null : slicer.states(h0.data(), b0, n), partOut, partHn, profile);
                    slicer.putRows(partOut, out.data(), shape.outputWidth(), b0, n);
                    slicer.putStates(partHn, hn.data(), b0, n);
                }
            }
        } catch (RuntimeException e) {
            // Drain what was enqueued so the staging areas are free again for the next call.
            try {
                device.finish();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return new RnnOutput(out, hn);
    }

    /**
     * Overrides the device's memory limits (bytes per buffer, bytes of all per-call buffers), so tests
     * can see the batch split on any device.
     */
    public void limitMemory(long maxBufferBytes, long totalBytes) {
        this.maxBufferBytes = maxBufferBytes;
        this.totalBytes = totalBytes;
    }

    /** The largest batch whose per-call buffers fit; refuses, with the sizes, when not even one row does. */
    private int largestBatchThatFits(int seqLen, int batch) {
        long maxBuffer = Math.min(maxBufferBytes, device.info().maxAllocBytes());
        // Leave a tenth of global memory to the weights, the runtime and other users.
        long total = Math.min(totalBytes, device.info().globalMemBytes() / 10 * 9);
        int fits = batch;
        while (fits > 0 && (largestBuffer(seqLen, fits) > maxBuffer || allBuffers(seqLen, fits) > total)) {
            fits = fits / 2;
        }
        if (fits == 0) {
            throw new io.clrnn.InvalidInputException(String.format(Locale.ROOT,
                    "input too large for %s: seq_len %d needs %s for a single batch row "
                            + "(largest buffer %s); the device allows %s per buffer and %s in all",
                    device.info().name(), seqLen, mib(allBuffers(seqLen, 1)), mib(largestBuffer(seqLen, 1)),
                    mib(maxBuffer), mib(total)));
        }
        return fits;
    }

    /** The largest of X with h_0, P, and a layer output with h_n. */
    private long largestBuffer(int seqLen, int batch) {
        long rows = (long) seqLen * batch + layout.tm() + 4;
        long states = (long) config.numLayers() * config.numDirections() * batch * config.hiddenSize();
        long widest = Math.max(config.inputSize(), config.numDirections() * config.hiddenSize());
        return 4 * Math.max(rows * widest + states, rows * layout.ldn());
    }

    /** X with h_0 behind it, P, and one or two layer outputs with h_n behind each. */
    private long allBuffers(int seqLen, int batch) {
        long rows = (long) seqLen * batch + layout.tm() + 4;
        long outputs = config.numLayers() > 1 ? 2 : 1;
        long states = (long) config.numLayers() * config.numDirections() * batch * config.hiddenSize();
        return 4 * (rows * (config.inputSize() + layout.ldn() + outputs * config.numDirections() * config.hiddenSize())
                + states * (1 + outputs));
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    /**
     * One forward of a whole batch that fits: one upload, every layer, one read back. h_0 travels
     * right behind X and h_n comes back right behind out, so each direction is a single transfer.
     */
    private void run(ForwardShape shape, float[] x, float[] h0, float[] out, float[] hn, Profile profile) {
        int seqLen = shape.seqLen();
        int batch = shape.batch();
        int hidden = config.hiddenSize();
        int width = shape.outputWidth();
        int rows = seqLen * batch;
        // One tile choice for every layer: the first layer's product is the smallest or close to it.
        KernelPlan.ProjectionTiles tiles = layout.projectionTiles(device.info(),
                (long) rows * layout.ldn() * config.inputSize());
        int mPadded = KernelPlan.roundUp(rows, tiles.tm());
        int states = hn.length;
        long h0Off = (long) rows * config.inputSize();
        long hnOff = (long) rows * width;
        workspace.ensure(Math.max((long) mPadded * config.inputSize(), h0Off + states), (long) mPadded * layout.ldn(),
                Math.max((long) mPadded * width, hnOff + states), config.numLayers() > 1);

        ClBuffer last = workspace.y[(config.numLayers() - 1) % 2];
        workspace.upload(x, h0, states, profile);
        Planned recurrence = plan(shape);
        // Row (t, b) of X, P and every layer's output sits at t*rowT + b*rowB: the input's own order.
        int rowT = shape.batchFirst() ? 1 : batch;
        int rowB = shape.batchFirst() ? seqLen : 1;
        ClBuffer layerIn = workspace.in;
        for (int layer = 0; layer < config.numLayers(); layer++) {
            LayerBuffers w = layers.get(layer);
            ClBuffer layerOut = workspace.y[layer % 2];
            if (recurrence.plan.variant() != KernelPlan.Variant.ROWS_FUSED) {
                runProjection(tiles, layerIn, config.layerInputSize(layer), mPadded, w, profile);
            }
            int layerStates = layer * config.numDirections() * batch * hidden;
            Recurrence r = new Recurrence(recurrence, seqLen, batch, rowT, rowB, (int) h0Off + layerStates,
                    (int) hnOff + layerStates, last, layerIn, config.layerInputSize(layer));
            runRecurrence(r, w, layerOut, profile);
            layerIn = layerOut;
        }
        workspace.download(last, out, hn, profile);
    }

    /**
     * The per-layer arguments of a recurrence launch; h_0 lives in the input buffer, h_n in
     * {@code hnBuffer}; the layer's input {@code a} (width {@code k}) is read only by the fused variant.
     */
    private record Recurrence(Planned planned, int seqLen, int batch, int rowT, int rowB, int h0Off, int hnOff,
            ClBuffer hnBuffer, ClBuffer a, int k) {}

    private void runProjection(KernelPlan.ProjectionTiles tiles, ClBuffer a, int k, int mPadded, LayerBuffers w,
            Profile profile) {
        ClKernel project = projectionKernel(tiles);
        int nTiles = layout.ldn() / tiles.tileN();
        int mTiles = mPadded / tiles.tm();
        project.arg(0, nTiles).arg(1, mTiles).arg(2, k).arg(3, k).arg(4, layout.ldn())
                .arg(5, a).arg(6, w.wihT).arg(7, w.bias).arg(8, workspace.p);
        long[] local = KernelPlan.projectionLocalSize(layout, nTiles, mTiles, device.maxWorkGroupSize(project));
        device.run(project, new long[] {roundUp(nTiles, local[0]), roundUp(mTiles, local[1])}, local, profile,
                Profile.Family.PROJECTION);
    }

    private void runRecurrence(Recurrence r, LayerBuffers w, ClBuffer y, Profile profile) {
        KernelPlan.Recurrence plan = r.planned.plan;
        int hidden = config.hiddenSize();
        int dirs = config.numDirections();
        int columns = layout.hp() / layout.vecR();
        ClKernel k = r.planned.kernel;
        // Arguments shared by the three kernels, after their leading step arguments.
        int first = plan.variant() == KernelPlan.Variant.STEP ? 1 : 2;
        k.arg(first, r.seqLen).arg(first + 1, r.batch).arg(first + 2, hidden).arg(first + 3, layout.hp())
                .arg(first + 4, r.rowT).arg(first + 5, r.rowB).arg(first + 6, layout.ldn())
                .arg(first + 7, r.h0Off).arg(first + 8, r.hnOff);
        int buffers = first + 9;
        switch (plan.variant()) {
            case ROWS, ROWS_FUSED -> {
                k.arg(buffers, plan.groupRows()).arg(buffers + 1, r.k).arg(buffers + 2, r.k);
                setBuffers(k, buffers + 3, w, y, r.hnBuffer);
                k.arg(buffers + 8, r.a).arg(buffers + 9, w.wihT).arg(buffers + 10, w.bias);
                long[] global = {KernelPlan.ceilDiv(r.batch, plan.groupRows()), dirs};
                runSteps(k, r.seqLen, plan.stepsPerLaunch(), global, new long[] {1, 1}, profile);
            }
            case SEQUENCE -> {
                int groupRows = plan.groupRows();
                long[] local = {columns, groupRows / plan.tb(), 1};
                long[] global = {columns, (long) KernelPlan.ceilDiv(r.batch, groupRows) * local[1], dirs};
                setBuffers(k, buffers, w, y, r.hnBuffer);
                k.localArg(buffers + 5, KernelPlan.sequenceHBytes(layout, groupRows))
                        .localArg(buffers + 6, KernelPlan.sequenceWBytes(layout, hidden));
                runSteps(k, r.seqLen, plan.stepsPerLaunch(), global, local, profile);
            }
            case STEP -> {
                setBuffers(k, buffers, w, y, r.hnBuffer);
                int blocks = KernelPlan.ceilDiv(r.batch, plan.tb());
                long max = device.maxWorkGroupSize(k);
                long lx = Math.min(columns, Math.min(64, max));
                long ly = Math.max(1, Math.min(blocks, max / lx));
                long[] global = {roundUp(columns, lx), roundUp(blocks, ly), dirs};
                for (int s = 0; s < r.seqLen; s++) {
                    k.arg(0, s);
                    device.run(k, global, new long[] {lx, ly, 1}, profile, Profile.Family.RECURRENCE);
                }
            }
        }
    }

    private void setBuffers(ClKernel k, int index, LayerBuffers w, ClBuffer y, ClBuffer hn) {
        k.arg(index, workspace.p).arg(index + 1, w.whhT).arg(index + 2, y).arg(index + 3, workspace.in)
                .arg(index + 4, hn);
    }

    /** Launches a whole-sequence kernel over [s, s + steps) ranges until every step ran. */
    private void runSteps(ClKernel k, int seqLen, int steps, long[] global, long[] local, Profile profile) {
        for (int s = 0; s < seqLen; s += steps) {
            k.arg(0, s).arg(1, Math.min(seqLen, s + steps));
            device.run(k, global, local, profile, Profile.Family.RECURRENCE);
        }
    }

    private record Planned(KernelPlan.Recurrence plan, ClKernel kernel) {}

    private Planned plan(ForwardShape shape) {
        int batch = Math.max(1, shape.batch());
        if (lastPlan != null && lastPlan.seqLen == shape.seqLen() && lastPlan.batch == batch) {
            return lastPlan.planned;
        }
        KernelPlan.Recurrence plan = KernelPlan.recurrence(device.info(), config, layout, shape.seqLen(), batch,
                Long.MAX_VALUE, forcedVariant);
        if (plan.variant() == KernelPlan.Variant.SEQUENCE) {
            // The work-group limit is known only once the kernel is built; tb does not depend on it.
            long limit = device.maxWorkGroupSize(recurrenceKernel(KernelPlan.Variant.SEQUENCE, plan.tb()));
            plan = KernelPlan.recurrence(device.info(), config, layout, shape.seqLen(), batch, limit, forcedVariant);
        }
        if (plan.stepsPerLaunch() > stepsCap) {
            plan = new KernelPlan.Recurrence(plan.variant(), plan.tb(), plan.groupRows(), stepsCap);
        }
        Planned planned = new Planned(plan, recurrenceKernel(plan.variant(), plan.tb()));
        lastPlan = new CachedPlan(shape.seqLen(), batch, planned);
        return planned;
    }

    private record CachedPlan(int seqLen, int batch, Planned planned) {}

    private ClKernel recurrenceKernel(KernelPlan.Variant variant, int tb) {
        String name = variant.kernel();
        String fused = variant != KernelPlan.Variant.ROWS_FUSED ? ""
                : String.format(Locale.ROOT, " -DFUSED=1 -DPANEL_P=%d -DWIH_ALIGNED=%d", layout.panelP(),
                        layout.wihAligned(config) ? 1 : 0);
        String options = layout.recurrenceOptions() + String.format(Locale.ROOT, " -DTB=%d -DACT_RELU=%d", tb,
                config.nonlinearity() == Nonlinearity.RELU ? 1 : 0) + fused;
        return kernels.computeIfAbsent(name + " " + options, key -> device.program(options, RECURRENCE).kernel(name));
    }

    private ClKernel projectionKernel(KernelPlan.ProjectionTiles tiles) {
        return projectionKernels.computeIfAbsent(tiles,
                t -> device.program(t.options(), PROJECTION).kernel("project"));
    }

    private LayerBuffers upload(RnnWeights weights, int layer) {
        int hidden = config.hiddenSize();
        int dirs = config.numDirections();
        int k = config.layerInputSize(layer);
        int ldn = layout.ldn();
        int hp = layout.hp();
        float[] wihT = new float[k * ldn];
        float[] bias = new float[ldn];
        float[] whhT = new float[dirs * hidden * hp];
        for (int d = 0; d < dirs; d++) {
            float[] wih = weights.weightIh(layer, d).data(); // (hidden, k)
            float[] whh = weights.weightHh(layer, d).data(); // (hidden, hidden)
            float[] b = weights.combinedBias(layer, d);
            for (int j = 0; j < hidden; j++) {
                int column = d * hidden + j;
                bias[column] = b[j];
                for (int i = 0; i < k; i++) {
                    wihT[layout.wihIndex(i, column, k)] = wih[j * k + i];
                }
                for (int i = 0; i < hidden; i++) {
                    whhT[layout.whhIndex(d, i, j, hidden)] = whh[j * hidden + i];
                }
            }
        }
        return new LayerBuffers(workspace.constant(wihT), workspace.constant(bias), workspace.constant(whhT));
    }

    private static long roundUp(long n, long multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    @Override
    public void close() {
        kernels.values().forEach(ClKernel::close);
        kernels.clear();
        projectionKernels.values().forEach(ClKernel::close);
        projectionKernels.clear();
        for (LayerBuffers w : layers) {
            w.wihT.close();
            w.bias.close();
            w.whhT.close();
        }
        layers.clear();
        workspace.close();
    }

    /**
     * Device buffers and host staging areas of a forward, grown on demand and kept between calls.
     * Transfers are non-blocking from and into direct buffers (JOCL cannot pin a Java array for
     * that); the upload's staging area is written again only after the previous forward's final
     * blocking read.
     */
    private static final class Workspace implements AutoCloseable {
        private final Device device;
        /** X, then h_0. */
        ClBuffer in;
        /** The projection of the current layer. */
        ClBuffer p;
        /** Layer outputs, alternating; the last layer's is followed by h_n. */
        final ClBuffer[] y = new ClBuffer[2];
        /** Results from 256 KiB up are mapped: copying them once more costs more than a command. */
        private static final int MAP_THRESHOLD_FLOATS = 1 << 16;
        /** Read results in place through a mapping: on a CPU the device's memory is the host's. */
        private final boolean mapResults;
        private ByteBuffer upStaging = ByteBuffer.allocateDirect(0);
        /** h_0 when the caller gives none, kept so that no forward allocates it again. */
        private float[] zeros = new float[0];
        private ByteBuffer downStaging = ByteBuffer.allocateDirect(0);

        Workspace(Device device) {
            this.device = device;
            this.mapResults = device.info().isCpu();
        }

        /** Grows every buffer to at least the given float counts. */
        void ensure(long inFloats, long pFloats, long yFloats, boolean twoOutputs) {
            try {
                in = fit(in, inFloats);
                p = fit(p, pFloats);
                y[0] = fit(y[0], yFloats);
                y[1] = twoOutputs ? fit(y[1], yFloats) : y[1];
            } catch (RuntimeException e) {
                // a failed allocation must not leave a field pointing at a closed buffer
                close();
                in = p = y[0] = y[1] = null;
                throw e;
            }
        }

        private ClBuffer fit(ClBuffer current, long floats) {
            if (current != null && current.bytes() >= floats * 4) {
                return current;
            }
            if (current != null) {
                current.close();
            }
            return device.buffer(floats * 4, mapResults);
        }

        /** A buffer holding {@code data}, complete before this returns. */
        ClBuffer constant(float[] data) {
            ClBuffer buffer = device.buffer((long) data.length * 4);
            ByteBuffer bytes = ByteBuffer.allocateDirect(data.length * 4).order(ByteOrder.nativeOrder());
            bytes.asFloatBuffer().put(data);
            device.write(buffer, 0, bytes, bytes.capacity(), null);
            device.finish(); // the direct buffer is garbage once this returns
            return buffer;
        }

        /** Enqueues one non-blocking write of X followed by h_0 (zeros when null) into {@code in}. */
        void upload(float[] x, float[] h0, int states, Profile profile) {
            int floats = x.length + states;
            upStaging = host(upStaging, floats);
            FloatBuffer f = upStaging.asFloatBuffer();
            f.put(x);
            if (h0 != null) {
                f.put(h0);
            } else {
                if (zeros.length < states) {
                    zeros = new float[states];
                }
                f.put(zeros, 0, states);
            }
            device.write(in, 0, upStaging, (long) floats * 4, profile);
        }

        /**
         * One blocking read of out followed by h_n from {@code src}: the forward's only wait. A CPU
         * device's results are mapped and copied once, straight into the Java arrays; a GPU's come
         * over the bus into a staging area first.
         */
        void download(ClBuffer src, float[] out, float[] hn, Profile profile) {
            int floats = out.length + hn.length;
            // Small results come back faster through a plain read: a mapping costs a second command.
            boolean mapped = mapResults && floats >= MAP_THRESHOLD_FLOATS;
            ByteBuffer results;
            if (mapped) {
                results = device.mapForReading(src, (long) floats * 4, profile);
            } else {
                downStaging = host(downStaging, floats);
                device.read(src, 0, downStaging, (long) floats * 4, true, profile);
                results = downStaging;
            }
            FloatBuffer f = results.asFloatBuffer();
            f.get(out);
            f.get(hn);
            if (mapped) {
                device.unmap(src, results);
            }
        }

        private static ByteBuffer host(ByteBuffer current, int floats) {
            if (current.capacity() >= floats * 4) {
                return current;
            }
            return ByteBuffer.allocateDirect(Math.max(floats, 1) * 4).order(ByteOrder.nativeOrder());
        }

        @Override
        public void close() {
            for (ClBuffer b : new ClBuffer[] {in, p, y[0], y[1]}) {
                if (b != null) {
                    b.close();
                }
            }
        }
    }
}
