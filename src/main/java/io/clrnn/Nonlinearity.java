package io.clrnn;

import io.clrnn.base.InvalidInputException;
import io.clrnn.model.CellType;
import java.util.Locale;

/** The activation of an Elman RNN, as {@code torch.nn.RNN(nonlinearity=...)} names it. */
public enum Nonlinearity {
    TANH, RELU;

    /** Parses {@code tanh} or {@code relu}, case-insensitively. */
    public static Nonlinearity parse(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "tanh" -> TANH;
            case "relu" -> RELU;
            default -> throw new InvalidInputException("Unknown nonlinearity '" + name + "'. Select from 'tanh' or 'relu'.");
        };
    }

    public String pytorchName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** RNN_TANH or RNN_RELU. */
    public CellType mode() {
        return this == TANH ? CellType.RNN_TANH : CellType.RNN_RELU;
    }
}
