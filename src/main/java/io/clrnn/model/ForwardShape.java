package io.clrnn.model;

import io.clrnn.InvalidInputException;
import io.clrnn.RnnInput;
import io.clrnn.Tensor;
import java.util.Arrays;

/**
 * The sizes of one forward call, checked against the module with PyTorch's own messages before any
 * work is done. Unbatched (2-D) input runs as batch 1.
 *
 * @param lengths each sequence's length, or null when all are {@code seqLen}
 */
public record ForwardShape(RnnConfig config, int seqLen, int batch, boolean unbatched, int[] lengths) {

    /** Checks the input as {@code module.forward} (and pack_padded_sequence, for lengths) does. */
    public static ForwardShape check(RnnConfig config, RnnInput in) {
        return check(config, in, false);
    }

    /**
     * Checks the next chunk of {@code batch} streams whose states the device keeps: as {@link #check}, but the
     * states are not given, and a length may be 0 (that stream has no new steps and keeps its state).
     */
    public static ForwardShape checkStream(RnnConfig config, RnnInput in, int batch) {
        if (in.h0() != null || in.c0() != null) {
            throw new InvalidInputException("h_0 and c_0 come from the state when one is given; start a state "
                    + "from them instead (newState(h0, c0))");
        }
        ForwardShape shape = check(config, in, true);
        if (shape.batch() != batch) {
            throw new InvalidInputException("the state holds " + batch + (batch == 1 ? " sequence" : " sequences")
                    + ", the input " + shape.batch());
        }
        return shape;
    }

    private static ForwardShape check(RnnConfig config, RnnInput in, boolean emptyAllowed) {
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
        ForwardShape shape = new ForwardShape(config, seqLen, batch, unbatched, null);
        // PyTorch checks hx's size in Python, before its kernel finds the sequence empty.
        checkState(in.h0(), shape.hiddenShape(), lstm ? "hidden[0]" : "hidden");
        checkState(in.c0(), shape.cellShape(), "hidden[1]");
        if (seqLen == 0) {
            throw new InvalidInputException("Expected sequence length to be larger than 0 in RNN");
        }
        if (in.lengths() == null) {
            return shape;
        }
        if (unbatched) {
            throw new InvalidInputException("lengths are for batched (3-D) input; unbatched input is one sequence: "
                    + "cut it to its length instead");
        }
        return new ForwardShape(config, seqLen, batch, false, checkLengths(in.lengths(), seqLen, batch, emptyAllowed));
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

    private static void checkState(Tensor state, int[] want3, String what) {
        if (state != null) {
            checkStateSize(state, want3[0], want3.length == 3 ? want3[1] : 1, want3[want3.length - 1], what);
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

    /** D*H_out: the feature width of every layer's output. */
    public int outputWidth() {
        return config.numDirections() * config.outputSize();
    }

    /** Whether rows of X and out go batch-major, (batch, seq, features). */
    public boolean batchFirst() {
        return config.batchFirst() && !unbatched;
    }

    /** Steps of sequence {@code b}. */
    public int length(int b) {
        return lengths == null ? seqLen : lengths[b];
    }

    /** Row of X/out holding time step {@code t} of sequence {@code b}. */
    public long row(int t, int b) {
        return batchFirst() ? (long) b * seqLen + t : (long) t * batch + b;
    }

    public int[] outputShape() {
        if (unbatched) {
            return new int[] {seqLen, outputWidth()};
        }
        return batchFirst() ? new int[] {batch, seqLen, outputWidth()} : new int[] {seqLen, batch, outputWidth()};
    }

    public int[] hiddenShape() {
        return stateShape(config.outputSize());
    }

    /** c's shape for an LSTM; null for cells without one. */
    public int[] cellShape() {
        return config.mode().hasCellState() ? stateShape(config.hiddenSize()) : null;
    }

    private int[] stateShape(int width) {
        int states = config.numLayers() * config.numDirections();
        return unbatched ? new int[] {states, width} : new int[] {states, batch, width};
    }
}
