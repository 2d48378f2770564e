package io.clrnn.model;

import io.clrnn.base.InvalidInputException;
import java.util.List;

/**
 * How a cell computes beyond its type, for ONNX's RNN, GRU and LSTM operators: the activations (slots
 * f, g, h per direction, forward's first), a clip on every activation's input, GRU's
 * linear_before_reset, and LSTM's input_forget and peepholes. PyTorch's modules all use {@link #pytorch}.
 *
 * @param activations {@code slots} activations, or {@code 2 * slots} (forward's, then reverse's)
 * @param clip        bound on each activation's input, or +infinity for none
 */
public record CellOptions(List<Activation> activations, double clip, boolean linearBeforeReset, boolean inputForget,
        boolean peepholes) {

    public CellOptions {
        activations = List.copyOf(activations);
        if (!(clip > 0)) {
            throw new InvalidInputException("clip must be positive, got " + clip);
        }
        for (Activation a : activations) {
            if (!Float.isFinite(a.alpha()) || !Float.isFinite(a.beta())) {
                throw new InvalidInputException("activation " + a + " has a non-finite alpha or beta");
            }
        }
    }

    /** What torch.nn's module of this mode computes. */
    public static CellOptions pytorch(CellType mode) {
        return new CellOptions(mode.defaultActivations(), Double.POSITIVE_INFINITY, true, false, false);
    }

    public boolean isPytorch(CellType mode) {
        return equals(pytorch(mode));
    }

    public boolean hasClip() {
        return clip != Double.POSITIVE_INFINITY;
    }

    /** The activation in {@code slot} (0: f, 1: g, 2: h) of direction {@code d} of a {@code mode} cell. */
    public Activation activation(CellType mode, int d, int slot) {
        int slots = mode.defaultActivations().size();
        return activations.get(activations.size() == slots ? slot : d * slots + slot);
    }

    /** Checks the options against a module of {@code mode} with {@code directions} directions. */
    void check(CellType mode, int directions) {
        int slots = mode.defaultActivations().size();
        if (activations.size() != slots && activations.size() != slots * directions) {
            throw new InvalidInputException(mode.moduleName() + " takes " + slots + " activations per direction, got "
                    + activations.size());
        }
        if (!linearBeforeReset && mode != CellType.GRU) {
            throw new InvalidInputException("linear_before_reset applies to GRU only");
        }
        if ((inputForget || peepholes) && mode != CellType.LSTM) {
            throw new InvalidInputException("input_forget and peepholes apply to LSTM only");
        }
    }
}
