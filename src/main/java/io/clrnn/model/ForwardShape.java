package io.clrnn.model;

import io.clrnn.InvalidInputException;
import io.clrnn.Tensor;

/**
 * The sizes of one forward call, checked against the module with PyTorch's own messages before
 * any work is done. Unbatched (2-D) input runs as batch 1.
 */
public record ForwardShape(RnnConfig config, int seqLen, int batch, boolean unbatched) {

    /** Checks {@code x} and the optional {@code h0} as {@code torch.nn.RNN.forward} does. */
    public static ForwardShape check(RnnConfig config, Tensor x, Tensor h0) {
        if (x == null) {
            throw new InvalidInputException("input must not be null");
        }
        if (x.rank() != 2 && x.rank() != 3) {
            throw new InvalidInputException(
                    "RNN: Expected input to be 2D or 3D, got " + x.rank() + "D tensor instead");
        }
        boolean unbatched = x.rank() == 2;
        if (h0 != null && h0.rank() != x.rank()) {
            throw new InvalidInputException(unbatched
                    ? "For unbatched 2-D input, hx should also be 2-D but got " + h0.rank() + "-D tensor"
                    : "For batched 3-D input, hx should also be 3-D but got " + h0.rank() + "-D tensor");
        }
        boolean batchFirst = config.batchFirst() && !unbatched;
        int seqLen = unbatched ? x.size(0) : x.size(batchFirst ? 1 : 0);
        int batch = unbatched ? 1 : x.size(batchFirst ? 0 : 1);
        if (x.size(-1) != config.inputSize()) {
            throw new InvalidInputException("input.size(-1) must be equal to input_size. Expected "
                    + config.inputSize() + ", got " + x.size(-1));
        }
        ForwardShape shape = new ForwardShape(config, seqLen, batch, unbatched);
        // PyTorch checks hx's size in Python, before its kernel finds the sequence empty.
        if (h0 != null) {
            int[] got = unbatched ? new int[] {h0.size(0), 1, h0.size(1)} : h0.shape();
            int[] want = {config.numLayers() * config.numDirections(), batch, config.hiddenSize()};
            if (!java.util.Arrays.equals(got, want)) {
                throw new InvalidInputException("Expected hidden size (" + want[0] + ", " + want[1] + ", " + want[2]
                        + "), got " + Tensor.format(got));
            }
        }
        if (seqLen == 0) {
            throw new InvalidInputException("Expected sequence length to be larger than 0 in RNN");
        }
        return shape;
    }

    public int hiddenSize() {
        return config.hiddenSize();
    }

    /** D*hidden: the feature width of every layer's output. */
    public int outputWidth() {
        return config.numDirections() * config.hiddenSize();
    }

    /** Whether rows of X and out go batch-major, (batch, seq, features). */
    public boolean batchFirst() {
        return config.batchFirst() && !unbatched;
    }

    /** Row of X/out holding time step {@code t} of sequence {@code b}. */
    public int row(int t, int b) {
        return batchFirst() ? b * seqLen + t : t * batch + b;
    }

    public int[] outputShape() {
        if (unbatched) {
            return new int[] {seqLen, outputWidth()};
        }
        return batchFirst() ? new int[] {batch, seqLen, outputWidth()} : new int[] {seqLen, batch, outputWidth()};
    }

    public int[] hiddenShape() {
        int states = config.numLayers() * config.numDirections();
        return unbatched ? new int[] {states, config.hiddenSize()} : new int[] {states, batch, config.hiddenSize()};
    }
}
