package io.clrnn.model;

import io.clrnn.base.InvalidInputException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The hyper-parameters of a recurrent module: {@code torch.nn.RNN}, {@code LSTM} or {@code GRU}
 * (the {@code mode}), or an ONNX RNN, GRU or LSTM node, which may also run backwards alone and take
 * {@link CellOptions}. {@link #toString()} is PyTorch's repr.
 *
 * @param projSize LSTM's proj_size, 0 for none
 */
public record RnnConfig(
        CellType mode,
        int inputSize,
        int hiddenSize,
        int numLayers,
        boolean bias,
        boolean batchFirst,
        double dropout,
        Direction direction,
        int projSize,
        CellOptions cell) {

    public RnnConfig {
        require(mode != null, "mode must not be null");
        require(inputSize > 0, "input_size should be a positive integer, got " + inputSize);
        require(hiddenSize > 0, "hidden_size should be a positive integer, got " + hiddenSize);
        require(numLayers > 0, "num_layers should be a positive integer, got " + numLayers);
        checkDropout(dropout);
        require(projSize >= 0, "proj_size should be a positive integer or zero to disable projections");
        require(projSize == 0 || mode == CellType.LSTM, "proj_size argument is only supported for LSTM, not RNN or GRU");
        require(projSize < hiddenSize, "proj_size has to be smaller than hidden_size");
        if (direction == null) {
            direction = Direction.FORWARD;
        }
        if (cell == null) {
            cell = CellOptions.pytorch(mode);
        }
        cell.check(mode, direction.count());
        // Each weight matrix is one Java array and one device buffer: sizes that cannot be are refused here,
        // in long arithmetic, before anything computes with them in int.
        long rows = (long) mode.gates() * hiddenSize;
        long hOut = projSize > 0 ? projSize : hiddenSize;
        for (int layer = 0; layer < numLayers; layer++) {
            long in = layer == 0 ? inputSize : (long) direction.count() * hOut;
            checkMatrix("weight_ih_l" + layer, rows, in);
            checkMatrix("weight_hh_l" + layer, rows, hOut);
        }
    }

    /** The largest array a JVM makes: a little under 2^31 elements. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private static void checkMatrix(String name, long rows, long cols) {
        // rows and cols are each under 2^34 (gates times an int), so their product is checked in two steps
        if (rows > MAX_ARRAY || cols > MAX_ARRAY || rows * cols > MAX_ARRAY) {
            throw new InvalidInputException(name + " would be " + rows + " x " + cols + ", more elements than one "
                    + "array holds (2^31 - 9): the module is too large");
        }
    }

    /** {@code RNN(input_size, hidden_size)} with PyTorch's defaults otherwise. */
    public static RnnConfig of(int inputSize, int hiddenSize) {
        return of(CellType.RNN_TANH, inputSize, hiddenSize);
    }

    /** A module of {@code mode} with PyTorch's defaults otherwise, e.g. {@code LSTM(128, 64)}. */
    public static RnnConfig of(CellType mode, int inputSize, int hiddenSize) {
        return new RnnConfig(mode, inputSize, hiddenSize, 1, true, false, 0, Direction.FORWARD, 0, null);
    }

    /** Another mode; the cell options become that mode's PyTorch defaults. */
    public RnnConfig withMode(CellType value) {
        return new RnnConfig(value, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, direction, projSize,
                null);
    }

    public RnnConfig withLayers(int value) {
        return new RnnConfig(mode, inputSize, hiddenSize, value, bias, batchFirst, dropout, direction, projSize, cell);
    }

    public RnnConfig withBias(boolean value) {
        return new RnnConfig(mode, inputSize, hiddenSize, numLayers, value, batchFirst, dropout, direction, projSize,
                cell);
    }

    public RnnConfig withBatchFirst(boolean value) {
        return new RnnConfig(mode, inputSize, hiddenSize, numLayers, bias, value, dropout, direction, projSize, cell);
    }

    public RnnConfig withDropout(double value) {
        return new RnnConfig(mode, inputSize, hiddenSize, numLayers, bias, batchFirst, value, direction, projSize,
                cell);
    }

    public RnnConfig withBidirectional(boolean value) {
        return withDirection(value ? Direction.BIDIRECTIONAL : Direction.FORWARD);
    }

    public RnnConfig withDirection(Direction value) {
        return new RnnConfig(mode, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, value, projSize, cell);
    }

    public RnnConfig withProjSize(int value) {
        return new RnnConfig(mode, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, direction, value, cell);
    }

    public RnnConfig withCell(CellOptions value) {
        return new RnnConfig(mode, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, direction, projSize,
                value);
    }

    public boolean bidirectional() {
        return direction == Direction.BIDIRECTIONAL;
    }

    public int numDirections() {
        return direction.count();
    }

    /** Width of h (and of each direction's output): proj_size when the LSTM projects, else hidden_size. */
    public int outputSize() {
        return projSize > 0 ? projSize : hiddenSize;
    }

    public int gates() {
        return mode.gates();
    }

    /** Input features of layer {@code layer}: input_size, then D * (proj_size or hidden_size). */
    public int layerInputSize(int layer) {
        return layer == 0 ? inputSize : numDirections() * outputSize();
    }

    /** state_dict key of a parameter, e.g. {@code weight_hh_l1_reverse}. */
    public static String paramName(String kind, int layer, int direction) {
        return kind + "_l" + layer + (direction == 1 ? "_reverse" : "");
    }

    /** Every parameter's name and shape, in PyTorch's state_dict order (ONNX's peepholes last in each group). */
    public Map<String, int[]> parameterShapes() {
        int rows = gates() * hiddenSize;
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (int layer = 0; layer < numLayers; layer++) {
            for (int d = 0; d < numDirections(); d++) {
                shapes.put(paramName("weight_ih", layer, d), new int[] {rows, layerInputSize(layer)});
                shapes.put(paramName("weight_hh", layer, d), new int[] {rows, outputSize()});
                if (bias) {
                    shapes.put(paramName("bias_ih", layer, d), new int[] {rows});
                    shapes.put(paramName("bias_hh", layer, d), new int[] {rows});
                }
                if (projSize > 0) {
                    shapes.put(paramName("weight_hr", layer, d), new int[] {projSize, hiddenSize});
                }
                if (cell.peepholes()) {
                    shapes.put(paramName("weight_peephole", layer, d), new int[] {3 * hiddenSize});
                }
            }
        }
        return shapes;
    }

    /** Multiply-adds of one forward over (seq, batch), times two: the FLOP count benchmarks report. */
    public double flops(int seqLen, int batch) {
        double perStep = 0;
        for (int layer = 0; layer < numLayers; layer++) {
            double perDirection = (double) gates() * hiddenSize * (layerInputSize(layer) + outputSize());
            if (projSize > 0) {
                perDirection += (double) projSize * hiddenSize;
            }
            perStep += numDirections() * perDirection;
        }
        return 2.0 * perStep * seqLen * batch;
    }

    /**
     * PyTorch's repr, e.g. {@code LSTM(10, 20, proj_size=5, num_layers=2, batch_first=True)}; an ONNX node's
     * extras follow in ONNX's words.
     */
    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        parts.add(Integer.toString(inputSize));
        parts.add(Integer.toString(hiddenSize));
        if (projSize != 0) {
            parts.add("proj_size=" + projSize);
        }
        if (numLayers != 1) {
            parts.add("num_layers=" + numLayers);
        }
        if (!bias) {
            parts.add("bias=False");
        }
        if (batchFirst) {
            parts.add("batch_first=True");
        }
        if (dropout != 0) {
            parts.add("dropout=" + pythonFloat(dropout));
        }
        if (direction == Direction.BIDIRECTIONAL) {
            parts.add("bidirectional=True");
        }
        if (direction == Direction.REVERSE) {
            parts.add("direction=reverse");
        }
        if (!cell.isPytorch(mode)) {
            parts.add("activations=" + cell.activations());
            if (cell.hasClip()) {
                parts.add("clip=" + pythonFloat(cell.clip()));
            }
            if (mode == CellType.GRU) {
                parts.add("linear_before_reset=" + (cell.linearBeforeReset() ? 1 : 0));
            }
            if (cell.inputForget()) {
                parts.add("input_forget=1");
            }
            if (cell.peepholes()) {
                parts.add("peepholes=True");
            }
        }
        return mode.moduleName() + "(" + String.join(", ", parts) + ")";
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

    /** A dropout probability, refused in torch.nn's words outside [0, 1] (NaN too); eval mode never applies it. */
    public static void checkDropout(double dropout) {
        require(dropout >= 0 && dropout <= 1, "dropout should be a number in range [0, 1] representing the "
                + "probability of an element being zeroed, but got " + dropout);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new InvalidInputException(message);
        }
    }
}
