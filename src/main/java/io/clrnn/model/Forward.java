package io.clrnn.model;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;
import java.util.Arrays;

/**
 * One forward, described once: the module's config, the sizes of the call (seq, batch, each sequence's length), where
 * the caller's arrays keep each row ({@link Strides}), and the inputs x, h_0 and c_0. Built only by its factories,
 * each of which checks the call as the framework it stands in for does ({@code module.forward}, a stream's next
 * chunk, an ONNX node), so that every engine, the plain Java reference included, takes a call that is already sound.
 */
public final class Forward {
    private final RnnConfig config;
    private final int seqLen;
    private final int batch;
    /** Rows of x and out batch-major: PyTorch's batch_first (batched input), ONNX's layout 1. */
    private final boolean batchMajor;
    /** Each sequence's length, 0..seqLen; null when every sequence is seqLen long. */
    private final int[] lengths;
    private final Strides strides;
    private final Tensor x;
    private final Tensor h0;
    private final Tensor c0;
    private final int[] outputShape;
    private final int[] hiddenShape;
    private final int[] cellShape;

    private Forward(RnnConfig config, int seqLen, int batch, boolean batchMajor, int[] lengths,
            Tensor x, Tensor h0, Tensor c0, int[] outputShape, int[] hiddenShape, Strides strides) {
        this.config = config;
        this.seqLen = seqLen;
        this.batch = batch;
        this.batchMajor = batchMajor;
        this.lengths = lengths;
        this.strides = strides;
        this.x = x;
        this.h0 = h0;
        this.c0 = c0;
        this.outputShape = outputShape;
        this.hiddenShape = hiddenShape;
        this.cellShape = config.mode().hasCellState() ? withWidth(hiddenShape, config.hiddenSize()) : null;
    }

    /** {@code module.forward(x, hx)}, checked as PyTorch checks it (and pack_padded_sequence, for lengths). */
    public static Forward of(RnnConfig config, RnnInput in) {
        return check(config, in, false);
    }

    /**
     * The next chunk of {@code batch} streams whose states the device keeps: checked as {@link #of}, but the states
     * are not given, and a length may be 0 (that stream has no new steps and keeps its state).
     */
    public static Forward ofStream(RnnConfig config, RnnInput in, int batch) {
        if (in.h0() != null || in.c0() != null) {
            throw new InvalidInputException("h_0 and c_0 come from the state when one is given; start a state "
                    + "from them instead (newState(h0, c0))");
        }
        Forward f = check(config, in, true);
        if (f.batch != batch) {
            throw new InvalidInputException("the state holds " + batch + (batch == 1 ? " sequence" : " sequences")
                    + ", the input " + f.batch);
        }
        return f;
    }

    /**
     * An ONNX RNN, GRU or LSTM node's forward, in its layout ({@code batchMajor}: layout 1), on inputs the node has
     * already checked in ONNX's words: {@code h0} and {@code c0} as initial_h and initial_c (null: zeros),
     * {@code lengths} as sequence_lens, 0..seqLen (null: all seqLen). What is checked here are the engine's
     * preconditions, whose failure is a bug of the caller.
     */
    public static Forward ofOnnx(RnnConfig config, boolean batchMajor, int seqLen, int batch, Tensor x, Tensor h0,
            Tensor c0, int[] lengths) {
        if (config.numLayers() != 1 || config.projSize() != 0 || x == null) {
            throw new IllegalArgumentException("an ONNX node's forward is of one layer without projection, from X: "
                    + config);
        }
        return inOnnxLayout(config, batchMajor, seqLen, batch, x, h0, c0, lengths);
    }

    /**
     * A forward whose X lies in a device buffer, time-major (seq, batch, input_size), every sequence seqLen long, as
     * a graph's recurrent node runs one: h_0 and c_0 (layers*D, batch, ·) from the host (null: zeros, or a stream's
     * state); Y, h_n and c_n where the engine's {@code DeviceIo} says.
     */
    public static Forward onDevice(RnnConfig config, int seqLen, int batch, Tensor h0, Tensor c0) {
        return inOnnxLayout(config, false, seqLen, batch, null, h0, c0, null);
    }

    /** A forward in ONNX's layouts ({@link Strides#onnx}), whose inputs its caller has checked. */
    private static Forward inOnnxLayout(RnnConfig config, boolean batchMajor, int seqLen, int batch, Tensor x,
            Tensor h0, Tensor c0, int[] lengths) {
        if (seqLen <= 0 || batch <= 0) {
            throw new IllegalArgumentException("a forward of " + batch + " sequences of " + seqLen + " steps");
        }
        int dirs = config.numDirections();
        int slots = config.numLayers() * dirs;
        int[] xShape = batchMajor ? new int[] {batch, seqLen, config.inputSize()}
                : new int[] {seqLen, batch, config.inputSize()};
        int[] hidden = batchMajor ? new int[] {batch, slots, config.outputSize()}
                : new int[] {slots, batch, config.outputSize()};
        requireShape(x, xShape, "X");
        requireShape(h0, hidden, "h_0");
        requireShape(c0, config.mode().hasCellState() ? withWidth(hidden, config.hiddenSize()) : null, "c_0");
        if (lengths != null) {
            if (lengths.length != batch || Arrays.stream(lengths).anyMatch(n -> n < 0 || n > seqLen)) {
                throw new IllegalArgumentException("lengths " + Arrays.toString(lengths) + " for " + batch
                        + " sequences of up to " + seqLen + " steps");
            }
            lengths = lengths.clone();
        }
        int h = config.outputSize();
        int[] y = batchMajor ? new int[] {batch, seqLen, dirs, h} : new int[] {seqLen, dirs, batch, h};
        return new Forward(config, seqLen, batch, batchMajor, lengths, x, h0, c0, y, hidden,
                Strides.onnx(config, seqLen, batch, batchMajor));
    }

    private static void requireShape(Tensor t, int[] want, String what) {
        if (t != null && (want == null || !Arrays.equals(t.shape(), want))) {
            throw new IllegalArgumentException(what + " of shape " + Tensor.format(t.shape()) + " where "
                    + (want == null ? "none" : Tensor.format(want)) + " was checked");
        }
    }

    private static Forward check(RnnConfig config, RnnInput in, boolean emptyAllowed) {
        Tensor x = in.x();
        String module = config.mode().moduleName();
        if (x == null) {
            throw new InvalidInputException("input must not be null");
        }
        if (x.rank() != 2 && x.rank() != 3) {
            throw new InvalidInputException(
                    module + ": Expected input to be 2D or 3D, got " + x.rank() + "D tensor instead");
        }
        boolean unbatched = x.rank() == 2;
        boolean lstm = config.mode().hasCellState();
        if (!lstm && in.c0() != null) {
            throw new InvalidInputException("c_0 is given, but " + module + " has no cell state");
        }
        if (lstm && (in.h0() == null) != (in.c0() == null)) {
            throw new InvalidInputException("LSTM takes h_0 and c_0 together, or neither; got only "
                    + (in.h0() == null ? "c_0" : "h_0"));
        }
        checkStateRanks(module, lstm, unbatched, in.h0(), in.c0());
        boolean batchFirst = config.batchFirst() && !unbatched;
        int seqLen = unbatched ? x.size(0) : x.size(batchFirst ? 1 : 0);
        int batch = unbatched ? 1 : x.size(batchFirst ? 0 : 1);
        if (x.size(-1) != config.inputSize()) {
            throw new InvalidInputException("input.size(-1) must be equal to input_size. Expected "
                    + config.inputSize() + ", got " + x.size(-1));
        }
        int states = config.numLayers() * config.numDirections();
        int[] hidden = unbatched ? new int[] {states, config.outputSize()}
                : new int[] {states, batch, config.outputSize()};
        // PyTorch checks hx's size in Python, before its kernel finds the sequence empty.
        checkState(in.h0(), hidden, lstm ? "hidden[0]" : "hidden");
        checkState(in.c0(), lstm ? withWidth(hidden, config.hiddenSize()) : null, "hidden[1]");
        if (seqLen == 0) {
            throw new InvalidInputException("Expected sequence length to be larger than 0 in RNN");
        }
        int[] lengths = null;
        if (in.lengths() != null) {
            if (unbatched) {
                throw new InvalidInputException("lengths are for batched (3-D) input; unbatched input is one "
                        + "sequence: cut it to its length instead");
            }
            lengths = checkLengths(in.lengths(), seqLen, batch, emptyAllowed);
        }
        int width = config.numDirections() * config.outputSize();
        int[] output = unbatched ? new int[] {seqLen, width}
                : batchFirst ? new int[] {batch, seqLen, width} : new int[] {seqLen, batch, width};
        return new Forward(config, seqLen, batch, batchFirst, lengths, x, in.h0(), in.c0(), output, hidden,
                Strides.pytorch(config, seqLen, batch, batchFirst));
    }

    /** The lengths of a batch of {@code batch} sequences of {@code seqLen} steps, as pack_padded_sequence checks them. */
    public static int[] checkLengths(int[] lengths, int seqLen, int batch) {
        return checkLengths(lengths, seqLen, batch, false);
    }

    private static int[] checkLengths(int[] lengths, int seqLen, int batch, boolean emptyAllowed) {
        if (lengths.length != batch) {
            throw new InvalidInputException("Expected `len(lengths)` to be equal to batch_size, but got "
                    + lengths.length + " (batch_size=" + batch + ")");
        }
        for (int b = 0; b < lengths.length; b++) {
            if (emptyAllowed && lengths[b] < 0) {
                throw new InvalidInputException("lengths[" + b + "] is " + lengths[b] + "; a stream's lengths are 0 (no "
                        + "new steps) to " + seqLen);
            }
            if (lengths[b] <= 0 && !emptyAllowed) {
                throw new InvalidInputException("Length of all samples has to be greater than 0, but found an "
                        + "element in 'lengths' that is <= 0");
            }
            if (lengths[b] > seqLen) {
                throw new InvalidInputException("lengths[" + b + "] is " + lengths[b]
                        + ", longer than the input's sequence length " + seqLen);
            }
        }
        return lengths.clone();
    }

    private static void checkStateRanks(String module, boolean lstm, boolean unbatched, Tensor h0, Tensor c0) {
        int want = unbatched ? 2 : 3;
        if (lstm && h0 != null && (h0.rank() != want || c0.rank() != want)) {
            throw new InvalidInputException((unbatched ? "For unbatched 2-D input, hx and cx should also be 2-D"
                    : "For batched 3-D input, hx and cx should also be 3-D") + " but got (" + h0.rank() + "-D, "
                    + c0.rank() + "-D) tensors");
        }
        if (!lstm && h0 != null && h0.rank() != want) {
            throw new InvalidInputException(unbatched
                    ? "For unbatched 2-D input, hx should also be 2-D but got " + h0.rank() + "-D tensor"
                    : "For batched 3-D input, hx should also be 3-D but got " + h0.rank() + "-D tensor");
        }
    }

    private static void checkState(Tensor state, int[] want, String what) {
        if (state != null) {
            checkStateSize(state, want[0], want.length == 3 ? want[1] : 1, want[want.length - 1], what);
        }
    }

    /**
     * A state, (slots, batch, width), or 2-D (slots, width) for one sequence, refused in PyTorch's words when its size
     * is another: {@code Expected hidden[0] size (2, 3, 20), got [2, 4, 20]}.
     */
    public static void checkStateSize(Tensor state, int slots, int batch, int width, String what) {
        int[] got = state.rank() == 2 ? new int[] {state.size(0), 1, state.size(1)} : state.shape();
        if (!Arrays.equals(got, new int[] {slots, batch, width})) {
            throw new InvalidInputException("Expected " + what + " size (" + slots + ", " + batch + ", " + width
                    + "), got " + Tensor.format(got));
        }
    }

    private static int[] withWidth(int[] shape, int width) {
        int[] s = shape.clone();
        s[s.length - 1] = width;
        return s;
    }

    public RnnConfig config() {
        return config;
    }

    public int seqLen() {
        return seqLen;
    }

    public int batch() {
        return batch;
    }

    /** Whether every sequence is seqLen long (no lengths were given). */
    public boolean fullLength() {
        return lengths == null;
    }

    /** Steps of sequence {@code b}. */
    public int length(int b) {
        return lengths == null ? seqLen : lengths[b];
    }

    public Strides strides() {
        return strides;
    }

    /** The input rows; null for a forward whose X lies in a device buffer. */
    public Tensor x() {
        return x;
    }

    /** h_0; null for zeros (or a stream's state). */
    public Tensor h0() {
        return h0;
    }

    /** An LSTM's c_0; null for zeros (or a stream's state). */
    public Tensor c0() {
        return c0;
    }

    /** Whether rows of x and out go batch-major (PyTorch's batch_first, ONNX's layout 1). */
    public boolean batchMajor() {
        return batchMajor;
    }

    /** out's (PyTorch's output, ONNX's Y) shape. */
    public int[] outputShape() {
        return outputShape.clone();
    }

    /** out, h_n and c_n (an LSTM's), zeros, in this forward's shapes. */
    public RnnOutput zeroResults() {
        return new RnnOutput(Tensor.zeros(outputShape), Tensor.zeros(hiddenShape),
                cellShape == null ? null : Tensor.zeros(cellShape));
    }
}
