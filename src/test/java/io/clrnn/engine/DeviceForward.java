package io.clrnn.engine;

import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;
import io.clrnn.device.ClBuffer;
import io.clrnn.device.Device;
import io.clrnn.model.Forward;
import io.clrnn.model.RnnConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Runs a PyTorch forward (time-major, full length) as a graph does, from device buffers ({@link DeviceIo}: X in a
 * device buffer at an offset, results into device buffers at offsets) and reads the results back in PyTorch's
 * layouts, for comparing with a host forward.
 */
final class DeviceForward {
    private DeviceForward() {}

    /** The forward's out, h_n and c_n; null when the engine left it to the host path. */
    static RnnOutput run(Device device, RnnEngine engine, Forward f) {
        return run(device, engine, f, false);
    }

    /** With Y as (seq, batch, D, H_out) when {@code batchBeforeDirection}: PyTorch's out, as it is. */
    static RnnOutput run(Device device, RnnEngine engine, Forward f, boolean batchBeforeDirection) {
        return run(device, engine, f, batchBeforeDirection, null);
    }

    /** A stream's next steps, from and into {@code state}. */
    static RnnOutput run(Device device, RnnEngine engine, Forward f, StateBuffers state) {
        return run(device, engine, f, false, state);
    }

    private static RnnOutput run(Device device, RnnEngine engine, Forward f, boolean batchBeforeDirection,
            StateBuffers state) {
        RnnConfig c = engine.config();
        int t = f.seqLen();
        int b = f.batch();
        int d = c.numDirections();
        int h = c.outputSize();
        int states = c.numLayers() * d;
        long off = 3; // offsets that are not zero, as a pool's views may have
        try (ClBuffer x = upload(device, f.x(), off);
             ClBuffer y = device.buffer((off + (long) t * b * d * h) * 4);
             ClBuffer hn = device.buffer((off + (long) states * b * h) * 4);
             ClBuffer cn = device.buffer((off + (long) states * b * c.hiddenSize()) * 4)) {
            DeviceIo io = new DeviceIo(x, off, y, off, batchBeforeDirection, hn, off,
                    c.mode().hasCellState() ? cn : null, off, state, Device.Lane.THROUGHPUT);
            boolean ran = engine.forward(Forward.onDevice(c, t, b, f.h0(), f.c0()), io, null);
            if (!ran) {
                return null;
            }
            float[] onnxY = read(device, y, off, t * b * d * h);
            if (batchBeforeDirection) {
                return new RnnOutput(Tensor.of(onnxY, t, b, d * h), hidden(device, hn, off, states, b, h),
                        cell(device, c, cn, off, states, b));
            }
            float[] out = new float[onnxY.length];
            for (int s = 0; s < t; s++) { // ONNX's (seq, D, batch, H) to PyTorch's (seq, batch, D*H)
                for (int dir = 0; dir < d; dir++) {
                    for (int r = 0; r < b; r++) {
                        System.arraycopy(onnxY, ((s * d + dir) * b + r) * h, out, (s * b + r) * d * h + dir * h, h);
                    }
                }
            }
            return new RnnOutput(Tensor.of(out, t, b, d * h), hidden(device, hn, off, states, b, h),
                    cell(device, c, cn, off, states, b));
        }
    }

    private static Tensor hidden(Device device, ClBuffer hn, long off, int states, int b, int h) {
        return Tensor.of(read(device, hn, off, states * b * h), states, b, h);
    }

    private static Tensor cell(Device device, RnnConfig c, ClBuffer cn, long off, int states, int b) {
        return c.mode().hasCellState()
                ? Tensor.of(read(device, cn, off, states * b * c.hiddenSize()), states, b, c.hiddenSize()) : null;
    }

    private static ClBuffer upload(Device device, Tensor t, long off) {
        ByteBuffer bytes = ByteBuffer.allocateDirect((int) (off + t.numel()) * 4).order(ByteOrder.nativeOrder());
        bytes.asFloatBuffer().put((int) off, t.data());
        ClBuffer buffer = device.buffer(bytes.capacity());
        device.write(buffer, 0, bytes, bytes.capacity(), null);
        device.finish();
        return buffer;
    }

    private static float[] read(Device device, ClBuffer buffer, long off, int floats) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(Math.max(4, floats * 4)).order(ByteOrder.nativeOrder());
        device.read(buffer, off * 4, bytes, floats * 4L, true, null);
        float[] out = new float[floats];
        bytes.asFloatBuffer().get(out);
        return out;
    }
}
