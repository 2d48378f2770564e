package io.clrnn.engine;

import io.clrnn.base.Tensor;
import io.clrnn.base.WeightsDtype;
import io.clrnn.device.ClBuffer;
import io.clrnn.device.Device;
import io.clrnn.device.Profile;
import io.clrnn.base.Half;
import io.clrnn.model.Forward;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.Strides;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Device buffers and host staging areas of an engine, grown on demand and kept between calls, and the
 * packing of the caller's arrays into them. Transfers are non-blocking from and into direct buffers
 * (JOCL cannot pin a Java array for that); the upload's staging area is written again only after the
 * previous forward's final blocking read.
 */
final class Workspace implements AutoCloseable {
    /** Results from 256 KiB up are mapped on CPUs: copying them once more costs more than a command. */
    private static final int MAP_THRESHOLD_FLOATS = 1 << 16;

    private final Device device;
    private final RnnConfig config;
    /** Read results in place through a mapping: on a CPU the device's memory is the host's. */
    private final boolean mapResults;
    /** X, h_0, c_0 and the step table. */
    ClBuffer in;
    /** The projection of the current layer. */
    ClBuffer p;
    /** Layer outputs, alternating; the last layer's is followed by h_n and c_n. */
    final ClBuffer[] y = new ClBuffer[2];
    private ClBuffer scratch;
    /** Bound to kernel arguments that a module's cell does not use. */
    private ClBuffer placeholder;
    private ByteBuffer upStaging = ByteBuffer.allocateDirect(0);
    private ByteBuffer downStaging = ByteBuffer.allocateDirect(0);
    /** A row of zeros for absent initial states, kept so that no forward allocates it again. */
    private float[] zeros = new float[0];
    /** The step table and order last written, and where: a stream's steps of one shape write them once. */
    private ClBuffer tablesIn;
    private long tablesOffset;
    private int[] tables;
    private int[] tablesOrder;
    /** Host copies of weights in flight to the device, kept alive until {@link #finishUploads}. */
    private final List<ByteBuffer> pendingUploads = new ArrayList<>();

    Workspace(Device device, WeightLayout layout) {
        this.device = device;
        this.config = layout.config();
        this.mapResults = device.info().isCpu();
    }

    /** A new buffer holding {@code data} (as half when asked); the write is in flight until {@link #finishUploads}. */
    ClBuffer constant(float[] data, WeightsDtype dtype) {
        int size = dtype == WeightsDtype.F16 ? 2 : 4;
        ByteBuffer bytes = ByteBuffer.allocateDirect(Math.max(1, data.length) * size).order(ByteOrder.nativeOrder());
        if (dtype == WeightsDtype.F16) {
            ShortBuffer halves = bytes.asShortBuffer();
            for (float v : data) {
                halves.put(Half.fromFloat(v));
            }
        } else {
            bytes.asFloatBuffer().put(data);
        }
        ClBuffer buffer = device.buffer(bytes.capacity());
        try {
            device.write(buffer, 0, bytes, bytes.capacity(), null);
        } catch (RuntimeException e) {
            buffer.close();
            throw e;
        }
        pendingUploads.add(bytes);
        return buffer;
    }

    void finishUploads() {
        device.finish();
        pendingUploads.clear();
    }

    ClBuffer placeholder() {
        if (placeholder == null) {
            placeholder = device.buffer(4 * WorkspaceLayout.SLACK);
        }
        return placeholder;
    }

    ClBuffer scratch() {
        return scratch != null ? scratch : placeholder();
    }

    /** Grows every buffer to what {@code s} needs. */
    void ensure(WorkspaceLayout s) {
        try {
            in = fit(in, s.inFloats(), false);
            p = fit(p, s.pFloats(), false);
            y[0] = fit(y[0], s.yFloats(), mapResults);
            y[1] = s.twoOutputs() ? fit(y[1], s.yFloats(), mapResults) : y[1];
            scratch = KernelPlanner.twoPhase(config) ? fit(scratch, s.scratchFloats(), false) : null;
        } catch (RuntimeException e) {
            // a failed allocation must not leave a field pointing at a closed buffer
            closeBuffers();
            throw e;
        }
    }

    private ClBuffer fit(ClBuffer current, long floats, boolean hostMapped) {
        if (current != null && current.bytes() >= floats * 4) {
            return current;
        }
        if (current != null) {
            current.close();
        }
        return device.buffer(Math.multiplyExact(floats, 4), hostMapped);
    }

    /** Enqueues one non-blocking write: X in packed order, h_0 and c_0 (zeros when absent), the step table. */
    void upload(Device.Lane lane, PackedBatch batch, Forward f, WorkspaceLayout s, Profile profile) {
        Strides io = f.strides();
        long clock = Timer.start(profile);
        int floats = Math.toIntExact(s.uploadFloats());
        upStaging = host(upStaging, floats);
        FloatBuffer staged = upStaging.asFloatBuffer();
        int width = config.inputSize();
        float[] x = f.x().data();
        if (isPlainTimeMajor(batch, io.xT(), io.xB(), width)) {
            staged.put(0, x, 0, batch.rows() * width);
        } else {
            for (int t = 0; t < batch.seqLen(); t++) {
                for (int i = 0; i < batch.active(t); i++) {
                    staged.put((batch.table[t] + i) * width, x, (int) (t * io.xT() + batch.order[i] * io.xB()), width);
                }
            }
        }
        putStates(staged, s.h0Offset(), f.h0(), batch, io, config.outputSize());
        if (config.mode().hasCellState()) {
            putStates(staged, s.c0Offset(), f.c0(), batch, io, config.hiddenSize());
        }
        upStaging.asIntBuffer().put((int) s.tableOffset(), batch.table).put((int) s.orderOffset(), batch.order);
        clock = Timer.lap(profile, Profile.Host.PACK, clock);
        device.write(lane, in, 0, upStaging, (long) floats * 4, profile);
        tablesWritten(batch, s);
        Timer.stop(profile, Profile.Host.ENQUEUE, clock);
    }

    /**
     * The upload of a forward whose X is already on the device: X copied from {@code x} (time-major rows, in the
     * batch's own order) on the device, unless null (the kernels read it in place), then h_0, c_0 (zeros when
     * absent; not when the states come from a stream's) and the step table in one write.
     */
    void uploadFromDevice(Device.Lane lane, PackedBatch batch, ClBuffer x, long xOffsetFloats, Forward f,
            WorkspaceLayout s, boolean statesOnDevice, Profile profile) {
        long clock = Timer.start(profile);
        if (x != null) {
            device.copy(lane, x, xOffsetFloats * 4, in, 0, batch.rows() * config.inputSize() * 4L, profile);
        }
        if (statesOnDevice && holdsTables(batch, s)) {
            // a stream's next step of the same shape: nothing from the host at all
            Timer.stop(profile, Profile.Host.ENQUEUE, clock);
            return;
        }
        int floats = Math.toIntExact(s.uploadFloats());
        upStaging = host(upStaging, floats);
        FloatBuffer staged = upStaging.asFloatBuffer();
        if (!statesOnDevice) {
            putStates(staged, s.h0Offset(), f.h0(), batch, f.strides(), config.outputSize());
            if (config.mode().hasCellState()) {
                putStates(staged, s.c0Offset(), f.c0(), batch, f.strides(), config.hiddenSize());
            }
        }
        upStaging.asIntBuffer().put((int) s.tableOffset(), batch.table).put((int) s.orderOffset(), batch.order);
        clock = Timer.lap(profile, Profile.Host.PACK, clock);
        int from = Math.toIntExact((statesOnDevice ? s.tableOffset() : s.h0Offset()) * 4);
        device.write(lane, in, from, upStaging.slice(from, floats * 4 - from), floats * 4L - from, profile);
        tablesWritten(batch, s);
        Timer.stop(profile, Profile.Host.ENQUEUE, clock);
    }

    /** Whether {@code in} already holds this batch's step table and order where {@code s} puts them. */
    private boolean holdsTables(PackedBatch batch, WorkspaceLayout s) {
        return tablesIn == in && in != null && tablesOffset == s.tableOffset()
                && Arrays.equals(tables, batch.table) && Arrays.equals(tablesOrder, batch.order);
    }

    private void tablesWritten(PackedBatch batch, WorkspaceLayout s) {
        tablesIn = in;
        tablesOffset = s.tableOffset();
        tables = batch.table.clone();
        tablesOrder = batch.order.clone();
    }

    /**
     * out copied on the device from the last layer's buffer, h_n and c_n from where the layers left them ({@code hn},
     * {@code cn}), to where {@code io} says (h_n and c_n only when it names buffers for them), rows in the batch's own
     * order; one command each, or one per direction for a Y in ONNX's (seq, D, batch, H).
     */
    void copyResults(Device.Lane lane, PackedBatch batch, WorkspaceLayout s, DeviceIo io, boolean copyY, ClBuffer hn,
            long hnOffset, ClBuffer cn, long cnOffset, Profile profile) {
        ClBuffer src = lastOutput();
        ClBuffer y = io.y();
        long yOff = io.yOffset();
        int hOut = config.outputSize();
        int dirs = config.numDirections();
        long rowBytes = (long) dirs * hOut * 4;
        int n = batch.batch();
        if (!copyY) {
            // the last layer wrote Y in place
        } else if (dirs == 1 || io.yBatchBeforeDirection()) {
            device.copy(lane, src, 0, y, yOff * 4, batch.rows() * rowBytes, profile);
        } else {
            for (int d = 0; d < dirs; d++) {
                // (seq, batch, D, H) rows to (seq, D, batch, H): H floats a row, batch rows, seq slices
                device.copyRect(lane, src, d * hOut * 4L, rowBytes, n * rowBytes, y, (yOff + (long) d * n * hOut) * 4,
                        hOut * 4L, n * rowBytes, new long[] {hOut * 4L, n, batch.seqLen()}, profile);
            }
        }
        long states = (long) config.numLayers() * dirs * n;
        if (io.hn() != null) {
            device.copy(lane, hn, hnOffset * 4, io.hn(), io.hnOffset() * 4, states * hOut * 4, profile);
        }
        if (io.cn() != null) {
            device.copy(lane, cn, cnOffset * 4, io.cn(), io.cnOffset() * 4, states * config.hiddenSize() * 4L, profile);
        }
    }

    private void putStates(FloatBuffer f, long offset, Tensor states, PackedBatch batch, Strides io, int width) {
        if (zeros.length < width) {
            zeros = new float[width];
        }
        int n = batch.batch();
        int count = config.numLayers() * config.numDirections();
        for (int s = 0; s < count; s++) {
            for (int i = 0; i < n; i++) {
                int dst = (int) (offset + ((long) s * n + i) * width);
                if (states == null) {
                    f.put(dst, zeros, 0, width);
                } else {
                    f.put(dst, states.data(), (int) ((s * io.stateS() + batch.order[i] * io.stateB()) * width), width);
                }
            }
        }
    }

    /** The last layer's output buffer, which h_n and c_n follow. */
    ClBuffer lastOutput() {
        return y[(config.numLayers() - 1) % 2];
    }

    /**
     * One blocking read of out, h_n and c_n from the last layer's buffer: the forward's only wait. Rows go
     * back to the caller's order and layout; padded steps are left as they are (zero). A CPU device's
     * results are mapped and copied once, straight into the Java arrays.
     */
    void download(Device.Lane lane, PackedBatch batch, Strides io, WorkspaceLayout s, Tensor out, Tensor hn, Tensor cn,
            Profile profile) {
        ClBuffer src = lastOutput();
        // without h_n (a stream's states stay on the device) only out comes back
        int floats = Math.toIntExact(hn == null ? s.hnOffset() : s.downloadFloats());
        // Small results come back faster through a plain read: a mapping costs a second command.
        boolean mapped = mapResults && floats >= MAP_THRESHOLD_FLOATS;
        long clock = Timer.start(profile);
        ByteBuffer results;
        if (mapped) {
            results = device.mapForReading(lane, src, (long) floats * 4, profile);
        } else {
            downStaging = host(downStaging, floats);
            device.read(lane, src, 0, downStaging, (long) floats * 4, true, profile);
            results = downStaging;
        }
        clock = Timer.lap(profile, Profile.Host.WAIT, clock);
        try {
            FloatBuffer f = results.asFloatBuffer();
            int hOut = config.outputSize();
            int dirs = config.numDirections();
            int ldy = dirs * hOut;
            if (io.outD() == hOut && isPlainTimeMajor(batch, io.outT(), io.outB(), ldy)) {
                f.get(0, out.data(), 0, batch.rows() * ldy);
            } else {
                // a row's directions lie side by side in the caller's array too (PyTorch's layouts): one copy
                int piece = io.outD() == hOut ? ldy : hOut;
                int pieces = ldy / piece;
                for (int t = 0; t < batch.seqLen(); t++) {
                    for (int i = 0; i < batch.active(t); i++) {
                        for (int d = 0; d < pieces; d++) {
                            f.get((batch.table[t] + i) * ldy + d * hOut, out.data(),
                                    (int) (t * io.outT() + batch.order[i] * io.outB() + d * io.outD()), piece);
                        }
                    }
                }
            }
            if (hn != null) {
                getStates(f, s.hnOffset(), hn, batch, io, hOut);
            }
            if (cn != null) {
                getStates(f, s.cnOffset(), cn, batch, io, config.hiddenSize());
            }
        } finally {
            if (mapped) {
                device.unmap(lane, src, results);
            }
            Timer.stop(profile, Profile.Host.UNPACK, clock);
        }
    }

    private void getStates(FloatBuffer f, long offset, Tensor states, PackedBatch batch, Strides io, int width) {
        int n = batch.batch();
        int count = config.numLayers() * config.numDirections();
        for (int s = 0; s < count; s++) {
            for (int i = 0; i < n; i++) {
                f.get((int) (offset + ((long) s * n + i) * width), states.data(),
                        (int) ((s * io.stateS() + batch.order[i] * io.stateB()) * width), width);
            }
        }
    }

    /** Whether the caller's rows of {@code width} floats already lie in packed order (the common case). */
    private static boolean isPlainTimeMajor(PackedBatch batch, long strideT, long strideB, int width) {
        int n = batch.batch();
        return strideB == width && strideT == (long) n * width && batch.rows() == (long) n * batch.seqLen()
                && batch.inCallersOrder();
    }

    private static ByteBuffer host(ByteBuffer current, int floats) {
        if (current.capacity() >= floats * 4L) {
            return current;
        }
        return ByteBuffer.allocateDirect(Math.max(floats, 1) * 4).order(ByteOrder.nativeOrder());
    }

    private void closeBuffers() {
        for (ClBuffer b : new ClBuffer[] {in, p, y[0], y[1], scratch}) {
            if (b != null) {
                b.close();
            }
        }
        in = p = y[0] = y[1] = scratch = null;
    }

    @Override
    public void close() {
        closeBuffers();
        if (placeholder != null) {
            placeholder.close();
            placeholder = null;
        }
    }
}
