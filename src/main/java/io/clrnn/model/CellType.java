package io.clrnn.model;

import io.clrnn.base.InvalidInputException;
import java.util.List;
import java.util.Locale;

/**
 * PyTorch's recurrent modes (the {@code mode} of {@code RNNBase}): which cell a module runs. Each knows
 * its gate count, whether it has a cell state, and the activations PyTorch uses; everything else about
 * a module is shared by all of them.
 */
public enum CellType {
    RNN_TANH("RNN", 1, List.of(Activation.of(Activation.Function.TANH))),
    RNN_RELU("RNN", 1, List.of(Activation.of(Activation.Function.RELU))),
    /** Gates i, f, g, o (row blocks of the weights, in this order); c_0 and c_n beside h. */
    LSTM("LSTM", 4, List.of(Activation.of(Activation.Function.SIGMOID), Activation.of(Activation.Function.TANH),
            Activation.of(Activation.Function.TANH))),
    /** Gates r, z, n (row blocks, in this order). */
    GRU("GRU", 3, List.of(Activation.of(Activation.Function.SIGMOID), Activation.of(Activation.Function.TANH)));

    private final String moduleName;
    private final int gates;
    private final List<Activation> activations;

    CellType(String moduleName, int gates, List<Activation> activations) {
        this.moduleName = moduleName;
        this.gates = gates;
        this.activations = activations;
    }

    /** Parses {@code rnn_tanh}, {@code rnn_relu}, {@code lstm} or {@code gru}, in any case. */
    public static CellType parse(String name) {
        for (CellType t : values()) {
            if (t.name().equalsIgnoreCase(name.trim())) {
                return t;
            }
        }
        throw new InvalidInputException("unknown mode '" + name + "': choose rnn_tanh, rnn_relu, lstm or gru");
    }

    /** The torch.nn class: RNN, LSTM or GRU. */
    public String moduleName() {
        return moduleName;
    }

    /** Row blocks of weight_ih and weight_hh: 1, 4 or 3. */
    public int gates() {
        return gates;
    }

    public boolean hasCellState() {
        return this == LSTM;
    }

    public boolean isRnn() {
        return this == RNN_TANH || this == RNN_RELU;
    }

    /** PyTorch's activations, in ONNX's slots: f (gates), then g (candidate), then h (LSTM's output). */
    public List<Activation> defaultActivations() {
        return activations;
    }

    /** As the CLI spells it. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
