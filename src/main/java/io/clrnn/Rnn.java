package io.clrnn;

import io.clrnn.device.Device;
import io.clrnn.device.Profile;
import io.clrnn.engine.RnnEngine;
import io.clrnn.model.ForwardShape;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A {@code torch.nn.RNN} in eval mode, living on one OpenCL device. Safe to share between
 * threads: calls run one at a time. Closing it frees its device memory; the device stays open.
 *
 * <pre>{@code
 * try (var device = Device.select("auto");
 *      var rnn = Rnn.load(device, Path.of("rnn.safetensors"), RnnOptions.defaults().batchFirst(true))) {
 *     RnnOutput y = rnn.forward(x, h0);   // y.output(), y.hidden()
 * }
 * }</pre>
 */
public final class Rnn implements AutoCloseable {
    private final Device device;
    private final RnnWeights weights;
    private RnnEngine engine;

    private Rnn(Device device, RnnWeights weights) {
        this.device = device;
        this.weights = weights;
        this.engine = new RnnEngine(device, weights);
    }

    /** Loads a safetensors state_dict; the options say what a state_dict does not record. */
    public static Rnn load(Device device, Path weights, RnnOptions options) throws IOException {
        return new Rnn(device, RnnWeights.load(weights, options));
    }

    public static Rnn create(Device device, RnnWeights weights) {
        return new Rnn(device, weights);
    }

    public RnnConfig config() {
        return weights.config();
    }

    public RnnWeights weights() {
        return weights;
    }

    public Device device() {
        return device;
    }

    /** {@code rnn(x)}: h_0 is zeros. */
    public RnnOutput forward(Tensor x) {
        return forward(x, null, null);
    }

    /** {@code rnn(x, h_0)}; {@code h0} may be null for zeros. */
    public RnnOutput forward(Tensor x, Tensor h0) {
        return forward(x, h0, null);
    }

    /** As {@link #forward(Tensor, Tensor)}, recording device events into {@code profile} when not null. */
    public synchronized RnnOutput forward(Tensor x, Tensor h0, Profile profile) {
        ForwardShape shape = ForwardShape.check(config(), x, h0);
        return engine().forward(shape, x, h0, profile);
    }

    /** The engine, for benchmarks and tests that inspect kernel choices. */
    public synchronized RnnEngine engine() {
        if (engine == null) {
            throw new IllegalStateException("this Rnn is closed");
        }
        return engine;
    }

    @Override
    public synchronized void close() {
        if (engine != null) {
            engine.close();
            engine = null;
        }
    }

    /** PyTorch's repr, e.g. {@code RNN(128, 64)}. */
    @Override
    public String toString() {
        return config().toString();
    }
}
