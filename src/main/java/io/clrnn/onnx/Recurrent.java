package io.clrnn.onnx;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.engine.DeviceIo;
import io.clrnn.engine.HostIo;
import io.clrnn.engine.RnnEngine;
import io.clrnn.engine.StateBuffers;
import io.clrnn.format.FormatException;
import io.clrnn.model.Activation;
import io.clrnn.model.CellOptions;
import io.clrnn.model.CellType;
import io.clrnn.model.Direction;
import io.clrnn.model.Forward;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import io.clrnn.onnx.OnnxModel.Role;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX RNN, GRU or LSTM node (opset 7 to 22) as a one-layer clrnn module: its attributes become a
 * {@link CellOptions}, its W, R, B and P are reordered into PyTorch's gate blocks (ONNX keeps LSTM's gates
 * as i, o, f, c and GRU's as z, r, h; PyTorch as i, f, g, o and r, z, n), and its inputs and outputs
 * are read and written in place through strides ({@link io.clrnn.model.Strides}) for either layout.
 */
final class Recurrent {
    private static final Set<String> COMMON = Set.of("activation_alpha", "activation_beta", "activations", "clip",
            "direction", "hidden_size", "layout");
    /** Input slots in ONNX's order. */
    static final Role[] INPUTS = {Role.X, Role.W, Role.R, Role.B, Role.SEQUENCE_LENS, Role.INITIAL_H, Role.INITIAL_C,
        Role.P};
    static final Role[] OUTPUTS = {Role.Y, Role.Y_H, Role.Y_C};

    final Node node;
    final CellType mode;
    final Direction direction;
    /** The hidden_size attribute, or 0 when the node leaves it to R's shape. */
    final int hiddenSize;
    final int layout;
    final CellOptions cell;

    Recurrent(Node node) {
        this.node = node;
        this.mode = switch (node.opType) {
            case "RNN" -> CellType.RNN_TANH; // the activations decide what runs
            case "GRU" -> CellType.GRU;
            default -> CellType.LSTM;
        };
        Set<String> known = new java.util.HashSet<>(COMMON);
        if (mode == CellType.GRU) {
            known.add("linear_before_reset");
        }
        if (mode == CellType.LSTM) {
            known.add("input_forget");
        }
        node.allowAttributes(known);
        node.arity(3, mode == CellType.LSTM ? 8 : 6, mode == CellType.LSTM ? 3 : 2);
        String dir = node.getString("direction", "forward");
        this.direction = switch (dir) {
            case "forward" -> Direction.FORWARD;
            case "reverse" -> Direction.REVERSE;
            case "bidirectional" -> Direction.BIDIRECTIONAL;
            default -> throw new FormatException(node.where + ": direction " + FormatException.quote(dir)
                    + " is not forward, reverse or bidirectional");
        };
        long h = node.getInt("hidden_size", 0);
        if (node.has("hidden_size") && (h <= 0 || h > Integer.MAX_VALUE)) {
            throw new FormatException(node.where + ": hidden_size " + h + " is not a positive size");
        }
        this.hiddenSize = (int) h;
        long layoutAttr = node.getInt("layout", 0);
        if (layoutAttr != 0 && layoutAttr != 1) {
            throw new FormatException(node.where + ": layout " + layoutAttr + " is neither 0 nor 1");
        }
        this.layout = (int) layoutAttr;
        float clip = node.getFloat("clip", Float.POSITIVE_INFINITY);
        if (!(clip > 0)) {
            throw new FormatException(node.where + ": clip " + clip + " is not positive");
        }
        try {
            this.cell = new CellOptions(activations(), clip, mode != CellType.GRU
                    || node.getInt("linear_before_reset", 0) != 0, node.getInt("input_forget", 0) != 0,
                    node.hasInput(7));
        } catch (InvalidInputException e) {
            throw new FormatException(node.where + ": " + e.getMessage(), e);
        }
    }

    /**
     * The activations as ONNX Runtime reads them: the node's list (or the defaults, for each direction), names
     * in any case; activation_alpha and activation_beta consumed in order by the functions that take them, the
     * rest getting ORT's defaults (LeakyRelu 0.01, HardSigmoid 0.2 and 0.5, Elu 1.0, otherwise 0).
     */
    private List<Activation> activations() {
        int slots = mode.defaultActivations().size();
        int dirs = direction.count();
        List<String> names = node.getStrings("activations");
        if (names == null) {
            return mode.defaultActivations(); // one list serves both directions
        }
        if (mode == CellType.RNN_TANH && dirs == 1 && names.size() == 2) {
            names = names.subList(0, 1); // RNN's schema default lists two; ORT takes the first
        }
        if (names.size() != slots * dirs) {
            throw new FormatException(node.where + " lists " + names.size() + " activations; " + node.opType
                    + " takes " + slots + " per direction, " + slots * dirs + " here");
        }
        float[] alphas = orEmpty(node.getFloats("activation_alpha"));
        float[] betas = orEmpty(node.getFloats("activation_beta"));
        int a = 0;
        int b = 0;
        List<Activation> out = new ArrayList<>();
        for (String name : names) {
            Activation.Function f;
            try {
                f = Activation.parse(name);
            } catch (InvalidInputException e) {
                throw new FormatException(node.where + ": unknown activation " + FormatException.quote(name) + "; ONNX's are "
                        + String.join(", ", java.util.Arrays.stream(Activation.Function.values())
                        .map(Activation.Function::onnxName).toList()));
            }
            Activation d = Activation.of(f); // ORT's defaults
            float alpha = d.takesAlpha() ? (a < alphas.length ? alphas[a++] : d.alpha()) : 0;
            float beta = d.takesBeta() ? (b < betas.length ? betas[b++] : d.beta()) : 0;
            out.add(new Activation(f, alpha, beta));
        }
        if (dirs == 2 && out.subList(0, slots).equals(out.subList(slots, 2 * slots))) {
            return out.subList(0, slots); // the same for both directions: one list, as PyTorch's modules have
        }
        return out;
    }

    private static float[] orEmpty(float[] f) {
        return f == null ? new float[0] : f;
    }

    /** The name the node reads in {@code role}'s slot, or "" when it leaves it out. */
    String input(Role role) {
        return node.input(java.util.Arrays.asList(INPUTS).indexOf(role));
    }

    /** The slot's role of input {@code i}. */
    static Role inputRole(int i) {
        return INPUTS[i];
    }

    /**
     * The module this node computes, with its parameters under PyTorch's names: weight_ih_l0 (G*H, I) from
     * W, weight_hh_l0 (G*H, H) from R, bias_ih_l0 and bias_hh_l0 from B's halves, weight_peephole_l0 (3*H)
     * from P; {@code _reverse} for the second direction of a bidirectional node.
     */
    RnnWeights weights(Value w, Value r, Value b, Value p) {
        Tensor wt = floats(w, "W");
        Tensor rt = floats(r, "R");
        int dirs = direction.count();
        int g = mode.gates();
        if (rt.rank() != 3) {
            throw node.fail("R should be 3-D [num_directions, " + g + "*hidden_size, hidden_size], got "
                    + Tensor.format(rt.shape()));
        }
        int h = hiddenSize > 0 ? hiddenSize : rt.size(2);
        if (wt.rank() != 3 || wt.size(0) != dirs || (long) wt.size(1) != (long) g * h) {
            throw node.fail("W should be [" + dirs + ", " + g * (long) h + ", input_size], got "
                    + Tensor.format(wt.shape()));
        }
        checkShape(rt, "R", dirs, g * h, h);
        int in = wt.size(2);
        Tensor bt = b == null ? null : checkShape(floats(b, "B"), "B", dirs, 2 * g * h);
        Tensor pt = p == null ? null : checkShape(floats(p, "P"), "P", dirs, 3 * h);
        RnnConfig config;
        try {
            config = new RnnConfig(mode, in, h, 1, bt != null, false, 0, direction, 0, cell);
        } catch (InvalidInputException e) {
            throw node.fail(e.getMessage());
        }
        int[] gates = switch (mode) {
            case LSTM -> new int[] {0, 2, 3, 1}; // i, f, g, o from ONNX's i, o, f, c
            case GRU -> new int[] {1, 0, 2};      // r, z, n from ONNX's z, r, h
            default -> new int[] {0};
        };
        Map<String, Tensor> params = new LinkedHashMap<>();
        for (int d = 0; d < dirs; d++) {
            params.put(RnnConfig.paramName("weight_ih", 0, d), Tensor.of(blocks(wt.data(), d, g * h * in, gates,
                    h * in), g * h, in));
            params.put(RnnConfig.paramName("weight_hh", 0, d), Tensor.of(blocks(rt.data(), d, g * h * h, gates,
                    h * h), g * h, h));
            if (bt != null) {
                params.put(RnnConfig.paramName("bias_ih", 0, d), Tensor.of(blocks(bt.data(), 2 * d, g * h, gates, h),
                        g * h));
                params.put(RnnConfig.paramName("bias_hh", 0, d), Tensor.of(blocks(bt.data(), 2 * d + 1, g * h, gates,
                        h), g * h));
            }
            if (cell.peepholes()) {
                params.put(RnnConfig.paramName("weight_peephole", 0, d), Tensor.of(blocks(pt.data(), d, 3 * h,
                        new int[] {0, 2, 1}, h), 3 * h)); // p_i, p_f, p_o from ONNX's p_i, p_o, p_f
            }
        }
        return RnnWeights.of(config, params);
    }

    /** Part {@code part} (of {@code partLen} floats) of {@code src}, its blocks taken in the order {@code order}. */
    private static float[] blocks(float[] src, int part, int partLen, int[] order, int blockLen) {
        float[] dst = new float[order.length * blockLen];
        for (int k = 0; k < order.length; k++) {
            System.arraycopy(src, part * partLen + order[k] * blockLen, dst, k * blockLen, blockLen);
        }
        return dst;
    }

    private Tensor floats(Value v, String what) {
        if (Value.onHost(v) instanceof Value.Floats f) {
            return f.tensor();
        }
        throw node.fail(what + " is an integer tensor; it should be float");
    }

    private Tensor checkShape(Tensor t, String what, int... want) {
        if (!java.util.Arrays.equals(t.shape(), want)) {
            throw node.fail(what + " should have shape " + Tensor.format(want) + ", got " + Tensor.format(t.shape()));
        }
        return t;
    }

    /**
     * One forward on {@code engine} (made from {@link #weights}): X, sequence_lens, initial_h and initial_c
     * (each null when absent) to Y, Y_h and Y_c in ONNX's shapes for the node's layout. Sequences of length 0
     * give zeros, as ONNX Runtime's GRU and LSTM do. With {@code batchBeforeDirection} (layout 0 only) Y is
     * (seq_length, batch_size, num_directions, hidden_size): what the Transpose torch.onnx.export puts after a
     * bidirectional node makes of it. With a {@code state} (a stream's chunk), the initial states come from it and
     * the final ones go back into it; initial_h and initial_c are not read. Y_h and Y_c may be left out (null) when
     * not {@code wantYh} or {@code wantYc}: nothing reads them.
     */
    Value[] forward(RnnEngine engine, Value x, Value lens, Value h0, Value c0, boolean batchBeforeDirection,
            boolean wantYh, boolean wantYc, StateBuffers state, io.clrnn.device.Profile profile) {
        if (batchBeforeDirection && layout != 0) {
            throw new IllegalArgumentException("Y with batch before direction is for layout 0");
        }
        RnnConfig config = engine.config();
        if (x instanceof Value.Ints) {
            throw node.fail("X is an integer tensor; it should be float");
        }
        int[] xs = x.shape(); // X's data stays where it is: on the device, it is read there
        if (xs.length != 3) {
            throw node.fail("X should be 3-D, " + (layout == 0 ? "[seq_length, batch_size, input_size]"
                    : "[batch_size, seq_length, input_size]") + ", got " + Tensor.format(xs));
        }
        int seq = xs[layout == 0 ? 0 : 1];
        int batch = xs[layout == 0 ? 1 : 0];
        int in = config.inputSize();
        if (xs[2] != in) {
            throw node.fail("X has input_size " + xs[2] + " but W has " + in);
        }
        int dirs = config.numDirections();
        int h = config.hiddenSize();
        int[] stateShape = layout == 0 ? new int[] {dirs, batch, h} : new int[] {batch, dirs, h};
        // a stream's states come from the stream: its initial_h and initial_c are not read back
        Tensor h0t = h0 == null || state != null ? null
                : checkShape(floats(h0, "initial_h"), "initial_h", stateShape);
        Tensor c0t = c0 == null || state != null ? null
                : checkShape(floats(c0, "initial_c"), "initial_c", stateShape);
        int[] lengths = lens == null ? null : lengths(lens, seq, batch);
        int[] yShape = layout == 0 ? new int[] {seq, dirs, batch, h} : new int[] {batch, seq, dirs, h};
        if (x instanceof Value.OnDevice onDevice && layout == 0 && lengths == null && seq > 0 && batch > 0) {
            // X made on the device (an embedding, say): the results stay there too
            GraphKernels k = onDevice.kernels();
            Value.checkedNumel(yShape, node.where);
            DeviceTensor y = k.fresh(batchBeforeDirection ? new int[] {seq, batch, dirs, h} : yShape);
            DeviceTensor yh = wantYh ? k.fresh(stateShape) : null;
            DeviceTensor yc = wantYc && mode == CellType.LSTM ? k.fresh(stateShape) : null;
            Forward f = Forward.onDevice(config, seq, batch, h0t, c0t);
            Device.Lane lane = k.enter(engine.laneFor(f)); // the engine's lane: no queue waits for the other
            DeviceIo dio = new DeviceIo(onDevice.tensor().block().buffer, onDevice.tensor().offset(), y.block().buffer, 0,
                    batchBeforeDirection, yh == null ? null : yh.block().buffer, 0, yc == null ? null : yc.block().buffer, 0,
                    state, lane);
            if (engine.forward(f, dio, profile)) {
                return new Value[] {new Value.OnDevice(y, k), yh == null ? null : new Value.OnDevice(yh, k),
                        yc == null ? null : new Value.OnDevice(yc, k)};
            }
        }
        Tensor y = zeros(yShape, "Y");
        Tensor yh = zeros(stateShape, "Y_h");
        Tensor yc = mode == CellType.LSTM ? zeros(stateShape, "Y_c") : null;
        if (seq > 0 && batch > 0) {
            Forward f = Forward.ofOnnx(config, layout == 1, seq, batch, floats(x, "X"), h0t, c0t, lengths);
            engine.forward(f, new HostIo(y, yh, yc, state), profile);
        }
        Value yv = Value.of(y);
        if (batchBeforeDirection) { // (seq, D, batch, H) read as (seq, batch, D, H)
            yv = yv.affine(new int[] {seq, batch, dirs, h}, 0, new long[] {(long) dirs * batch * h, h,
                (long) batch * h, 1}, node.where);
        }
        return new Value[] {yv, Value.of(yh), yc == null ? null : Value.of(yc)};
    }

    private Tensor zeros(int[] shape, String what) {
        long n = 1;
        for (int dim : shape) {
            n *= dim;
            if (n > TensorData.MAX_ELEMENTS) {
                throw node.fail(what + " would have shape " + Tensor.format(shape) + ", more than a Java array holds");
            }
        }
        return Tensor.zeros(shape);
    }

    private int[] lengths(Value v, int seq, int batch) {
        if (!(v instanceof Value.Ints ints)) {
            throw node.fail("sequence_lens should be an int32 tensor, got a float one");
        }
        IntTensor t = ints.tensor();
        if (t.rank() != 1 || t.numel() != batch) {
            throw node.fail("sequence_lens should have shape [" + batch + "] (batch_size), got "
                    + Tensor.format(t.shape()));
        }
        int[] out = new int[batch];
        for (int i = 0; i < batch; i++) {
            long len = t.data()[i];
            if (len < 0 || len > seq) {
                throw node.fail("sequence_lens[" + i + "] is " + len + ", outside 0.." + seq + " (seq_length)");
            }
            out[i] = (int) len;
        }
        return out;
    }

    /** What describe() says about this node's cell beyond its module's repr. */
    String extras() {
        return layout == 1 ? ", layout=1" : "";
    }
}
