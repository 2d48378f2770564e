package io.clrnn.model;

import io.clrnn.InvalidInputException;
import io.clrnn.Nonlinearity;
import io.clrnn.RnnOptions;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The hyper-parameters of a {@code torch.nn.RNN}; {@link #toString()} is PyTorch's repr. */
public record RnnConfig(
        int inputSize,
        int hiddenSize,
        int numLayers,
        boolean bias,
        boolean bidirectional,
        RnnOptions options) {

    public RnnConfig {
        require(inputSize > 0, "input_size should be a positive integer, got " + inputSize);
        require(hiddenSize > 0, "hidden_size should be a positive integer, got " + hiddenSize);
        require(numLayers > 0, "num_layers should be a positive integer, got " + numLayers);
        if (options == null) {
            options = RnnOptions.defaults();
        }
    }

    /** {@code RNN(input_size, hidden_size)} with PyTorch's defaults otherwise. */
    public static RnnConfig of(int inputSize, int hiddenSize) {
        return new RnnConfig(inputSize, hiddenSize, 1, true, false, RnnOptions.defaults());
    }

    public RnnConfig withLayers(int layers) {
        return new RnnConfig(inputSize, hiddenSize, layers, bias, bidirectional, options);
    }

    public RnnConfig withBias(boolean value) {
        return new RnnConfig(inputSize, hiddenSize, numLayers, value, bidirectional, options);
    }

    public RnnConfig withBidirectional(boolean value) {
        return new RnnConfig(inputSize, hiddenSize, numLayers, bias, value, options);
    }

    public RnnConfig withOptions(RnnOptions value) {
        return new RnnConfig(inputSize, hiddenSize, numLayers, bias, bidirectional, value);
    }

    public int numDirections() {
        return bidirectional ? 2 : 1;
    }

    public Nonlinearity nonlinearity() {
        return options.nonlinearity();
    }

    public boolean batchFirst() {
        return options.batchFirst();
    }

    /** Input features of layer {@code layer}: input_size, then D*hidden_size. */
    public int layerInputSize(int layer) {
        return layer == 0 ? inputSize : numDirections() * hiddenSize;
    }

    /** state_dict key of a parameter, e.g. {@code weight_hh_l1_reverse}. */
    public static String paramName(String kind, int layer, int direction) {
        return kind + "_l" + layer + (direction == 1 ? "_reverse" : "");
    }

    /** Every parameter's name and shape, in PyTorch's state_dict order. */
    public Map<String, int[]> parameterShapes() {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (int layer = 0; layer < numLayers; layer++) {
            for (int d = 0; d < numDirections(); d++) {
                shapes.put(paramName("weight_ih", layer, d), new int[] {hiddenSize, layerInputSize(layer)});
                shapes.put(paramName("weight_hh", layer, d), new int[] {hiddenSize, hiddenSize});
                if (bias) {
                    shapes.put(paramName("bias_ih", layer, d), new int[] {hiddenSize});
                    shapes.put(paramName("bias_hh", layer, d), new int[] {hiddenSize});
                }
            }
        }
        return shapes;
    }

    /** Multiply-adds of one forward over (seq, batch), times two: the FLOP count benchmarks report. */
    public double flops(int seqLen, int batch) {
        double perStep = 0;
        for (int layer = 0; layer < numLayers; layer++) {
            perStep += (double) numDirections() * hiddenSize * (layerInputSize(layer) + hiddenSize);
        }
        return 2.0 * perStep * seqLen * batch;
    }

    /** PyTorch's repr, e.g. {@code RNN(10, 20, num_layers=2, bias=False, batch_first=True, bidirectional=True)}. */
    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        parts.add(Integer.toString(inputSize));
        parts.add(Integer.toString(hiddenSize));
        if (numLayers != 1) {
            parts.add("num_layers=" + numLayers);
        }
        if (!bias) {
            parts.add("bias=False");
        }
        if (options.batchFirst()) {
            parts.add("batch_first=True");
        }
        if (options.dropout() != 0) {
            parts.add("dropout=" + pythonFloat(options.dropout()));
        }
        if (bidirectional) {
            parts.add("bidirectional=True");
        }
        return "RNN(" + String.join(", ", parts) + ")";
    }

    /**
     * Python's {@code repr} of a float: the shortest digits, positional when the decimal exponent
     * is in [-4, 16), else scientific with at least two exponent digits ({@code 5e-05}).
     */
    static String pythonFloat(double v) {
        if (Double.isNaN(v)) {
            return "nan";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        if (v == 0) {
            return (1 / v < 0) ? "-0.0" : "0.0";
        }
        BigDecimal d = new BigDecimal(Double.toString(v)).stripTrailingZeros();
        int exponent = d.precision() - d.scale() - 1;
        if (exponent >= -4 && exponent < 16) {
            String plain = d.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String digits = d.unscaledValue().abs().toString();
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return (d.signum() < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+")
                + String.format(Locale.ROOT, "%02d", Math.abs(exponent));
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new InvalidInputException(message);
        }
    }
}
