package io.clrnn.engine;

import io.clrnn.base.Tensor;
import io.clrnn.device.ClBuffer;
import io.clrnn.device.Device;
import io.clrnn.model.RnnConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The recurrent state of a batch of streams, kept on the device between forwards: h (layers*D, batch, H_out)
 * and an LSTM's c (layers*D, batch, H), rows in the caller's order. A forward given it starts from it and
 * leaves its final states in it ({@link RnnEngine#forward}); nothing goes through the host unless asked.
 * Each is held twice: a forward of the whole batch in the caller's order has its kernels read h_0 from one side
 * and write h_n to the other (a kernel cannot read and write the same rows without a race), then the sides swap;
 * no copy, no extra launch. Not thread-safe: its owner serialises use.
 */
public final class StateBuffers implements AutoCloseable {
    private final Device device;
    private final RnnConfig config;
    private final int batch;
    private final ClBuffer[] h = new ClBuffer[2];
    private final ClBuffer[] c = new ClBuffer[2];
    /** The side holding the current states. */
    private int side;
    /** The lane of the last command that wrote the states: a forward on the other lane waits for it. */
    private Device.Lane writtenOn = Device.Lane.THROUGHPUT;

    private StateBuffers(Device device, RnnConfig config, int batch) {
        this.device = device;
        this.config = config;
        this.batch = batch;
        try {
            for (int i = 0; i < 2; i++) {
                h[i] = device.buffer(Math.multiplyExact(slots(config) * batch * config.outputSize(), 4L));
                if (config.mode().hasCellState()) {
                    c[i] = device.buffer(Math.multiplyExact(slots(config) * batch * config.hiddenSize(), 4L));
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Zero states for {@code batch} streams. */
    public static StateBuffers zeros(Device device, RnnConfig config, int batch) {
        StateBuffers s = new StateBuffers(device, config, batch);
        s.reset();
        return s;
    }

    /** States holding {@code h0} and {@code c0} (the caller checked their shapes), in the layout of h_n and c_n. */
    public static StateBuffers of(Device device, RnnConfig config, int batch, Tensor h0, Tensor c0) {
        StateBuffers s = new StateBuffers(device, config, batch);
        try {
            s.write(s.h(), h0);
            if (s.c() != null) {
                s.write(s.c(), c0);
            }
            device.finish(Device.Lane.THROUGHPUT); // the staging copies below may go once written
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private void write(ClBuffer dst, Tensor t) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(t.data().length * 4).order(ByteOrder.nativeOrder());
        bytes.asFloatBuffer().put(t.data());
        device.write(Device.Lane.THROUGHPUT, dst, 0, bytes, bytes.capacity(), null);
    }

    private static long slots(RnnConfig config) {
        return (long) config.numLayers() * config.numDirections();
    }

    public int batch() {
        return batch;
    }

    public RnnConfig config() {
        return config;
    }

    /** h now. */
    ClBuffer h() {
        return h[side];
    }

    /** c now, or null for a cell without one. */
    ClBuffer c() {
        return c[side];
    }

    /** The other side of h, where a forward writing h_n straight into the state puts it. */
    ClBuffer nextH() {
        return h[1 - side];
    }

    ClBuffer nextC() {
        return c[1 - side];
    }

    /** The other side, written by commands on {@code lane}, now holds the states. */
    void swap(Device.Lane lane) {
        side = 1 - side;
        writtenOn = lane;
    }

    /** Orders the next command on {@code lane} after the last one that wrote the states. */
    void before(Device.Lane lane) {
        if (writtenOn != lane) {
            device.finish(writtenOn);
        }
    }

    /** Records that commands on {@code lane} now write the states. */
    void writtenOn(Device.Lane lane) {
        writtenOn = lane;
    }

    /** h as (layers*D, batch, H_out), read back once the forwards writing it are done. */
    public Tensor hidden() {
        return read(h(), config.outputSize());
    }

    /** c as (layers*D, batch, H); null for a cell without one. */
    public Tensor cell() {
        return c() == null ? null : read(c(), config.hiddenSize());
    }

    private Tensor read(ClBuffer src, int width) {
        Tensor t = Tensor.zeros((int) slots(config), batch, width);
        ByteBuffer bytes = ByteBuffer.allocateDirect(t.data().length * 4).order(ByteOrder.nativeOrder());
        before(Device.Lane.THROUGHPUT);
        device.read(Device.Lane.THROUGHPUT, src, 0, bytes, bytes.capacity(), true, null);
        bytes.asFloatBuffer().get(t.data());
        return t;
    }

    /** A new state holding these states' current values; the two are independent from then on. */
    public StateBuffers copy() {
        StateBuffers s = new StateBuffers(device, config, batch);
        before(Device.Lane.THROUGHPUT);
        device.copy(Device.Lane.THROUGHPUT, h(), 0, s.h(), 0, h().bytes(), null);
        if (c() != null) {
            device.copy(Device.Lane.THROUGHPUT, c(), 0, s.c(), 0, c().bytes(), null);
        }
        return s;
    }

    /** Every stream back to zero states. */
    public void reset() {
        before(Device.Lane.THROUGHPUT);
        device.zero(Device.Lane.THROUGHPUT, h(), 0, h().bytes(), null);
        if (c() != null) {
            device.zero(Device.Lane.THROUGHPUT, c(), 0, c().bytes(), null);
        }
        writtenOn = Device.Lane.THROUGHPUT;
    }

    /** Stream {@code row} (0 ≤ row &lt; batch) back to zero states, the others untouched. */
    public void reset(int row) {
        before(Device.Lane.THROUGHPUT);
        zeroRow(h(), row, config.outputSize());
        if (c() != null) {
            zeroRow(c(), row, config.hiddenSize());
        }
        writtenOn = Device.Lane.THROUGHPUT;
    }

    private void zeroRow(ClBuffer buffer, int row, int width) {
        for (long s = 0; s < slots(config); s++) {
            device.zero(Device.Lane.THROUGHPUT, buffer, (s * batch + row) * width * 4L, width * 4L, null);
        }
    }

    @Override
    public void close() {
        for (ClBuffer b : new ClBuffer[] {h[0], h[1], c[0], c[1]}) {
            if (b != null) {
                b.close();
            }
        }
    }
}
