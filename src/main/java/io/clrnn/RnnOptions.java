package io.clrnn;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.WeightsDtype;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;

/**
 * What a weights file does not say about a module, and how to run it: the mode when the shapes leave a
 * choice (an RNN's nonlinearity) or when you want it checked, the input layout, dropout (eval mode:
 * only shown in the repr), which module of a file that holds several ({@code prefix}), and the
 * precision the weights are kept in on the device.
 *
 * @param mode         null: inferred from the weights' shapes (an RNN takes {@code nonlinearity})
 * @param nonlinearity an RNN's activation; null means tanh
 * @param prefix       the key prefix of the module in the file, e.g. {@code "encoder.lstm."}; null: found
 */
public record RnnOptions(CellType mode, Nonlinearity nonlinearity, boolean batchFirst, double dropout, String prefix,
        WeightsDtype weightsDtype) {

    public RnnOptions {
        RnnConfig.checkDropout(dropout);
        if (nonlinearity != null && mode != null && !mode.isRnn()) {
            throw new InvalidInputException("nonlinearity applies to an RNN, not to " + mode.moduleName());
        }
        if (nonlinearity != null && mode != null && mode != nonlinearity.mode()) {
            throw new InvalidInputException("--mode " + mode.cliName() + " contradicts nonlinearity "
                    + nonlinearity.pytorchName());
        }
        if (weightsDtype == null) {
            weightsDtype = WeightsDtype.F32;
        }
    }

    /** Inferred mode (tanh for an RNN), time-major input, no dropout, float32 weights. */
    public static RnnOptions defaults() {
        return new RnnOptions(null, null, false, 0, null, WeightsDtype.F32);
    }

    public RnnOptions mode(CellType value) {
        return new RnnOptions(value, nonlinearity, batchFirst, dropout, prefix, weightsDtype);
    }

    public RnnOptions nonlinearity(Nonlinearity value) {
        return new RnnOptions(mode, value, batchFirst, dropout, prefix, weightsDtype);
    }

    public RnnOptions batchFirst(boolean value) {
        return new RnnOptions(mode, nonlinearity, value, dropout, prefix, weightsDtype);
    }

    public RnnOptions dropout(double value) {
        return new RnnOptions(mode, nonlinearity, batchFirst, value, prefix, weightsDtype);
    }

    public RnnOptions prefix(String value) {
        return new RnnOptions(mode, nonlinearity, batchFirst, dropout, value, weightsDtype);
    }

    public RnnOptions weightsDtype(WeightsDtype value) {
        return new RnnOptions(mode, nonlinearity, batchFirst, dropout, prefix, value);
    }

    /** The mode a module whose weights have {@code gates} row blocks runs in under these options. */
    public CellType modeFor(CellType inferred) {
        if (mode != null) {
            return mode;
        }
        if (nonlinearity != null && !inferred.isRnn()) {
            // an option that cannot apply is refused, not ignored: the weights are not an RNN's
            throw new InvalidInputException("nonlinearity applies to an RNN, not to " + inferred.moduleName()
                    + " (what the weights' shapes say)");
        }
        return inferred.isRnn() && nonlinearity != null ? nonlinearity.mode() : inferred;
    }

    /** The options a state_dict does not record, applied to {@code config}. */
    public RnnConfig applyTo(RnnConfig config) {
        return config.withBatchFirst(batchFirst).withDropout(dropout);
    }
}
