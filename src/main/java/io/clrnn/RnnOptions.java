package io.clrnn;

/**
 * What a PyTorch state_dict does not record about an RNN: its activation, its input layout, and
 * its (eval-mode, so ignored) dropout.
 */
public record RnnOptions(Nonlinearity nonlinearity, boolean batchFirst, double dropout) {
    public RnnOptions {
        if (nonlinearity == null) {
            throw new IllegalArgumentException("nonlinearity must not be null");
        }
        if (!(dropout >= 0 && dropout <= 1)) {
            throw new InvalidInputException("dropout should be a number in range [0, 1] representing the "
                    + "probability of an element being zeroed, but got " + dropout);
        }
    }

    /** tanh, time-major input, no dropout: {@code torch.nn.RNN}'s defaults. */
    public static RnnOptions defaults() {
        return new RnnOptions(Nonlinearity.TANH, false, 0);
    }

    public RnnOptions nonlinearity(Nonlinearity value) {
        return new RnnOptions(value, batchFirst, dropout);
    }

    public RnnOptions batchFirst(boolean value) {
        return new RnnOptions(nonlinearity, value, dropout);
    }

    public RnnOptions dropout(double value) {
        return new RnnOptions(nonlinearity, batchFirst, value);
    }
}
