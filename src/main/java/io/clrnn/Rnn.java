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
 * A recurrent module in eval mode: {@code torch.nn.RNN}, {@code LSTM} or {@code GRU}, living on one OpenCL
 * device. Safe to share between threads: calls run one at a time. Closing it frees its device memory;
 * the device stays open.
 *
 * <pre>{@code
 * try (var device = Device.select("auto");
 *      var lstm = Rnn.load(device, Path.of("lstm.safetensors"), RnnOptions.defaults().batchFirst(true))) {
 *     RnnOutput y = lstm.forward(RnnInput.of(x).h0(h0).c0(c0).lengths(lengths));  // y.output(), y.hidden(), y.cell()
 * }
 * }</pre>
 */
public final class Rnn implements AutoCloseable {
    private final Device device;
    private final RnnWeights weights;
    private RnnEngine engine;

    private Rnn(Device device, RnnWeights weights, WeightsDtype dtype) {
        this.device = device;
        this.weights = weights;
        this.engine = new RnnEngine(device, weights, dtype);
    }

    /** Loads a state_dict from a weights file; the options say what a state_dict does not record. */
    public static Rnn load(Device device, Path weights, RnnOptions options) throws IOException {
        return new Rnn(device, RnnWeights.load(weights, options), options.weightsDtype());
    }

    /** A module of weights made in code ({@link RnnWeights#init}, say), float32 on the device. */
    public static Rnn create(Device device, RnnWeights weights) {
        return new Rnn(device, weights, WeightsDtype.F32);
    }

    public static Rnn create(Device device, RnnWeights weights, WeightsDtype dtype) {
        return new Rnn(device, weights, dtype);
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

    /** {@code module(x)}: initial states are zeros. */
    public RnnOutput forward(Tensor x) {
        return forward(RnnInput.of(x), null);
    }

    /** {@code module(x, h_0)} of an RNN or GRU; {@code h0} may be null for zeros. */
    public RnnOutput forward(Tensor x, Tensor h0) {
        return forward(RnnInput.of(x).h0(h0), null);
    }

    /** {@code lstm(x, (h_0, c_0))}; both null for zeros. */
    public RnnOutput forward(Tensor x, Tensor h0, Tensor c0) {
        return forward(RnnInput.of(x).h0(h0).c0(c0), null);
    }

    public RnnOutput forward(RnnInput input) {
        return forward(input, null);
    }

    /** As {@link #forward(RnnInput)}, recording device events into {@code profile} when not null. */
    public synchronized RnnOutput forward(RnnInput input, Profile profile) {
        ForwardShape shape = ForwardShape.check(config(), input);
        return engine().forward(shape, input, profile);
    }

    /** The engine; for tests in this package. */
    synchronized RnnEngine engine() {
        if (engine == null) {
            throw new IllegalStateException("this " + config().mode().moduleName() + " is closed");
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

    /** PyTorch's repr, e.g. {@code LSTM(128, 64)}. */
    @Override
    public String toString() {
        return config().toString();
    }
}
