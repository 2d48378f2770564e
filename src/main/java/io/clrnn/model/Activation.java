package io.clrnn.model;

import io.clrnn.base.InvalidInputException;
import java.util.Locale;

/**
 * One activation function of a recurrent cell, as ONNX's RNN, GRU and LSTM operators name them, with
 * its alpha and beta where it takes them. PyTorch's modules use Tanh, Relu and Sigmoid only.
 */
public record Activation(Function function, float alpha, float beta) {
    public enum Function {
        TANH("Tanh"), RELU("Relu"), SIGMOID("Sigmoid"), AFFINE("Affine"), LEAKY_RELU("LeakyRelu"),
        THRESHOLDED_RELU("ThresholdedRelu"), SCALED_TANH("ScaledTanh"), HARD_SIGMOID("HardSigmoid"), ELU("Elu"),
        SOFTSIGN("Softsign"), SOFTPLUS("Softplus");

        private final String onnxName;

        Function(String onnxName) {
            this.onnxName = onnxName;
        }

        public String onnxName() {
            return onnxName;
        }
    }

    /**
     * With the alpha and beta ONNX Runtime's GRU and LSTM use when a model gives none: LeakyRelu 0.01,
     * HardSigmoid 0.2 and 0.5, Elu 1.0, and 0 for the rest (Affine, ThresholdedRelu, ScaledTanh).
     */
    public static Activation of(Function function) {
        return switch (function) {
            case LEAKY_RELU -> new Activation(function, 0.01f, 0);
            case ELU -> new Activation(function, 1.0f, 0);
            case HARD_SIGMOID -> new Activation(function, 0.2f, 0.5f);
            default -> new Activation(function, 0, 0);
        };
    }

    /** An ONNX activation name (case-insensitive), e.g. {@code LeakyRelu}. */
    public static Activation.Function parse(String onnxName) {
        for (Function f : Function.values()) {
            if (f.onnxName.toLowerCase(Locale.ROOT).equals(onnxName.toLowerCase(Locale.ROOT))) {
                return f;
            }
        }
        throw new InvalidInputException("unknown activation '" + onnxName + "'");
    }

    /** Whether alpha (and beta) mean anything for this function. */
    public boolean takesAlpha() {
        return switch (function) {
            case AFFINE, LEAKY_RELU, THRESHOLDED_RELU, SCALED_TANH, HARD_SIGMOID, ELU -> true;
            default -> false;
        };
    }

    public boolean takesBeta() {
        return function == Function.AFFINE || function == Function.SCALED_TANH || function == Function.HARD_SIGMOID;
    }

    /** The function in double precision, for the reference; NaN propagates as in the kernels. */
    public double apply(double x) {
        return switch (function) {
            case TANH -> Math.tanh(x);
            case RELU -> x < 0 ? 0 : x;
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case AFFINE -> alpha * x + beta;
            case LEAKY_RELU -> x < 0 ? alpha * x : x;
            case THRESHOLDED_RELU -> x > alpha ? x : 0;
            case SCALED_TANH -> alpha * Math.tanh(beta * x);
            case HARD_SIGMOID -> {
                double y = alpha * x + beta;
                yield y < 0 ? 0 : y > 1 ? 1 : y;
            }
            case ELU -> x < 0 ? alpha * (Math.exp(x) - 1) : x;
            case SOFTSIGN -> x / (1 + Math.abs(x));
            case SOFTPLUS -> (x > 0 ? x : 0) + Math.log1p(Math.exp(-Math.abs(x)));
        };
    }

    @Override
    public String toString() {
        return function.onnxName + (takesBeta() ? "(" + alpha + ", " + beta + ")" : takesAlpha() ? "(" + alpha + ")" : "");
    }
}
