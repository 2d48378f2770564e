package io.clrnn;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;
import io.clrnn.base.WeightsDtype;
import io.clrnn.device.Device;
import io.clrnn.device.Profile;
import io.clrnn.engine.HostIo;
import io.clrnn.engine.RnnEngine;
import io.clrnn.engine.StateBuffers;
import io.clrnn.model.Forward;
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
        return new Rnn(device, StateDict.load(weights, options), options.weightsDtype());
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
        return forward(RnnInput.of(x), (Profile) null);
    }

    /** {@code module(x, h_0)} of an RNN or GRU; {@code h0} may be null for zeros. */
    public RnnOutput forward(Tensor x, Tensor h0) {
        return forward(RnnInput.of(x).h0(h0), (Profile) null);
    }

    /** {@code lstm(x, (h_0, c_0))}; both null for zeros. */
    public RnnOutput forward(Tensor x, Tensor h0, Tensor c0) {
        return forward(RnnInput.of(x).h0(h0).c0(c0), (Profile) null);
    }

    public RnnOutput forward(RnnInput input) {
        return forward(input, (Profile) null);
    }

    /** As {@link #forward(RnnInput)}, recording device events into {@code profile} when not null. */
    public synchronized RnnOutput forward(RnnInput input, Profile profile) {
        return engine().forward(Forward.of(config(), input), profile);
    }

    /** Zero states for {@code batch} streams, kept on the device: see {@link #forward(RnnInput, RnnState)}. */
    public synchronized RnnState newState(int batch) {
        if (batch <= 0) {
            throw new InvalidInputException("a state holds 1 or more streams, not " + batch);
        }
        engine();
        return new RnnState(this, StateBuffers.zeros(device, config(), batch));
    }

    /**
     * States starting from {@code h0} and {@code c0}, shaped as h_0 and c_0 ((num_layers*D, batch, ·), or 2-D for
     * one stream); {@code c0} is an LSTM's and only an LSTM's.
     */
    public synchronized RnnState newState(Tensor h0, Tensor c0) {
        RnnConfig c = config();
        String module = c.mode().moduleName();
        if (h0 == null) {
            throw new InvalidInputException("h_0 must not be null; newState(batch) starts from zeros");
        }
        if (c.mode().hasCellState() != (c0 != null)) {
            throw new InvalidInputException(c.mode().hasCellState() ? "LSTM takes h_0 and c_0 together; got only h_0"
                    : "c_0 is given, but " + module + " has no cell state");
        }
        int batch = h0.rank() == 3 ? h0.size(1) : 1;
        if (batch == 0) {
            throw new InvalidInputException("a state holds 1 or more streams, not 0");
        }
        int slots = c.numLayers() * c.numDirections();
        Forward.checkStateSize(h0, slots, batch, c.outputSize(), "h_0");
        if (c0 != null) {
            Forward.checkStateSize(c0, slots, batch, c.hiddenSize(), "c_0");
        }
        engine();
        return new RnnState(this, StateBuffers.of(device, c, batch, h0, c0));
    }

    /** The next chunk of every stream of {@code state}: see {@link #forward(RnnInput, RnnState)}. */
    public Tensor forward(Tensor x, RnnState state) {
        return forward(RnnInput.of(x), state, null);
    }

    /**
     * The next chunk of every stream, continuing from {@code state} and leaving the final states in it, on the
     * device: {@code out, h = module(x, h)} in a loop, without h going through the host. Returns the output as
     * {@link #forward(RnnInput)} does. The input gives no h_0 or c_0 (the state does), and its lengths may include
     * 0: a stream with no new steps this time, whose state carries over as it was.
     */
    public Tensor forward(RnnInput input, RnnState state) {
        return forward(input, state, null);
    }

    /** As {@link #forward(RnnInput, RnnState)}, recording device events into {@code profile} when not null. */
    public synchronized Tensor forward(RnnInput input, RnnState state, Profile profile) {
        if (state == null) {
            throw new InvalidInputException("state must not be null; forward(input) starts from zeros");
        }
        StateBuffers buffers = state.buffers(this);
        Forward f = Forward.ofStream(config(), input, buffers.batch());
        Tensor out = Tensor.zeros(f.outputShape());
        engine().forward(f, new HostIo(out, null, null, buffers), profile);
        return out;
    }

    /** The engine; a closed module refuses in one line. */
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
