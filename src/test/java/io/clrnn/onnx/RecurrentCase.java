package io.clrnn.onnx;

import io.clrnn.base.Tensor;
import io.clrnn.onnx.proto.AttributeProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One ONNX RNN, GRU or LSTM node with seeded data: the model in its own layout (what clrnn runs) and its
 * layout-0 twin with the data transposed (what ONNX Runtime runs: its CPU GRU and LSTM refuse layout 1).
 */
final class RecurrentCase {
    final String name;
    final String op;
    String direction = "forward";
    int input = 3;
    int hidden = 4;
    int seq = 5;
    int batch = 3;
    int layout;
    boolean bias = true;
    boolean peepholes;
    boolean h0;
    boolean c0;
    int[] lengths;
    List<String> activations;
    float[] alphas;
    float[] betas;
    Float clip;
    Integer linearBeforeReset;
    Integer inputForget;
    boolean[] outputs = {true, true, true};
    boolean weightsAsInputs;
    long seed = 1;
    int opset = 14;

    RecurrentCase(String name, String op) {
        this.name = name;
        this.op = op;
    }

    // Fluent setters, so a test's case list reads as a table.
    RecurrentCase dir(String v) { direction = v; return this; }
    RecurrentCase sizes(int i, int h, int t, int b) { input = i; hidden = h; seq = t; batch = b; return this; }
    RecurrentCase layout(int v) { layout = v; return this; }
    RecurrentCase noBias() { bias = false; return this; }
    RecurrentCase peepholes() { peepholes = true; return this; }
    RecurrentCase h0() { h0 = true; return this; }
    RecurrentCase states() { h0 = true; c0 = op.equals("LSTM"); return this; }
    RecurrentCase c0Only() { c0 = true; return this; }
    RecurrentCase lengths(int... v) { lengths = v; batch = v.length; return this; }
    RecurrentCase acts(String... v) { activations = List.of(v); return this; }
    RecurrentCase alphas(float... v) { alphas = v; return this; }
    RecurrentCase betas(float... v) { betas = v; return this; }
    RecurrentCase clip(float v) { clip = v; return this; }
    RecurrentCase lbr(int v) { linearBeforeReset = v; return this; }
    RecurrentCase inputForget() { inputForget = 1; return this; }
    RecurrentCase only(boolean y, boolean yh, boolean yc) { outputs = new boolean[] {y, yh, yc}; return this; }
    RecurrentCase weightsAsInputs() { weightsAsInputs = true; return this; }
    RecurrentCase seed(long v) { seed = v; return this; }
    RecurrentCase opset(int v) { opset = v; return this; }

    int dirs() {
        return direction.equals("bidirectional") ? 2 : 1;
    }

    int gates() {
        return switch (op) {
            case "LSTM" -> 4;
            case "GRU" -> 3;
            default -> 1;
        };
    }

    @Override
    public String toString() {
        return name;
    }

    /** The weights and data, seeded: W, R, B, P and X, initial_h, initial_c as the layout-0 model takes them. */
    Map<String, Tensor> layout0Data() {
        int d = dirs();
        int gh = gates() * hidden;
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("W", scale(Tensor.randn(seed, d, gh, input), 0.5f));
        m.put("R", scale(Tensor.randn(seed + 1, d, gh, hidden), 0.5f));
        if (bias) {
            m.put("B", scale(Tensor.randn(seed + 2, d, 2 * gh), 0.3f));
        }
        if (peepholes) {
            m.put("P", scale(Tensor.randn(seed + 3, d, 3 * hidden), 0.4f));
        }
        m.put("X", Tensor.randn(seed + 4, seq, batch, input));
        if (h0) {
            m.put("initial_h", scale(Tensor.randn(seed + 5, d, batch, hidden), 0.7f));
        }
        if (c0) {
            m.put("initial_c", scale(Tensor.randn(seed + 6, d, batch, hidden), 0.7f));
        }
        return m;
    }

    private static Tensor scale(Tensor t, float s) {
        float[] a = t.data();
        for (int i = 0; i < a.length; i++) {
            a[i] *= s;
        }
        return t;
    }

    /** The model, in layout {@code l}, its weights initializers (or graph inputs). */
    byte[] model(int l) {
        Map<String, Tensor> data = layout0Data();
        int d = dirs();
        ModelBuilder b = new ModelBuilder(opset);
        b.input("X", ModelBuilder.FLOAT, l == 0 ? new int[] {seq, batch, input} : new int[] {batch, seq, input});
        for (String w : List.of("W", "R", "B", "P")) {
            if (data.containsKey(w)) {
                if (weightsAsInputs) {
                    b.input(w, ModelBuilder.FLOAT, data.get(w).shape());
                } else {
                    b.initializer(w, data.get(w));
                }
            }
        }
        if (lengths != null) {
            b.input("sequence_lens", ModelBuilder.INT32, batch);
        }
        int[] state = l == 0 ? new int[] {d, batch, hidden} : new int[] {batch, d, hidden};
        if (h0) {
            b.input("initial_h", ModelBuilder.FLOAT, state);
        }
        if (c0) {
            b.input("initial_c", ModelBuilder.FLOAT, state);
        }
        List<String> in = new ArrayList<>(List.of("X", "W", "R", bias ? "B" : "", lengths != null ? "sequence_lens" : "",
                h0 ? "initial_h" : "", c0 ? "initial_c" : "", peepholes ? "P" : ""));
        trim(in);
        List<String> out = new ArrayList<>();
        String[] names = {"Y", "Y_h", "Y_c"};
        int count = op.equals("LSTM") ? 3 : 2;
        for (int i = 0; i < count; i++) {
            out.add(outputs[i] ? names[i] : "");
        }
        trim(out);
        if (outputs[0]) {
            b.output("Y", ModelBuilder.FLOAT, l == 0 ? new int[] {seq, d, batch, hidden} : new int[] {batch, seq, d, hidden});
        }
        for (int i = 1; i < count; i++) {
            if (outputs[i]) {
                b.output(names[i], ModelBuilder.FLOAT, state);
            }
        }
        List<AttributeProto> attrs = new ArrayList<>();
        attrs.add(ModelBuilder.attr("hidden_size", (long) hidden));
        if (!direction.equals("forward") || seed % 2 == 0) {
            attrs.add(ModelBuilder.attr("direction", direction));
        }
        if (l == 1) {
            attrs.add(ModelBuilder.attr("layout", 1L));
        }
        if (activations != null) {
            attrs.add(ModelBuilder.strings("activations", activations));
        }
        if (alphas != null) {
            attrs.add(ModelBuilder.floats("activation_alpha", alphas));
        }
        if (betas != null) {
            attrs.add(ModelBuilder.floats("activation_beta", betas));
        }
        if (clip != null) {
            attrs.add(ModelBuilder.attr("clip", clip));
        }
        if (linearBeforeReset != null) {
            attrs.add(ModelBuilder.attr("linear_before_reset", (long) linearBeforeReset));
        }
        if (inputForget != null) {
            attrs.add(ModelBuilder.attr("input_forget", (long) inputForget));
        }
        b.node(op, in, out, attrs.toArray(AttributeProto[]::new));
        return b.bytes();
    }

    private static void trim(List<String> names) {
        while (!names.isEmpty() && names.get(names.size() - 1).isEmpty()) {
            names.remove(names.size() - 1);
        }
    }

    /** The float inputs a run of the layout-{@code l} model takes. */
    Map<String, Tensor> floatInputs(int l) {
        Map<String, Tensor> data = layout0Data();
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("X", l == 0 ? data.get("X") : swap01(data.get("X")));
        if (weightsAsInputs) {
            for (String w : List.of("W", "R", "B", "P")) {
                if (data.containsKey(w)) {
                    in.put(w, data.get(w));
                }
            }
        }
        for (String s : List.of("initial_h", "initial_c")) {
            if (data.containsKey(s)) {
                in.put(s, l == 0 ? data.get(s) : swap01(data.get(s)));
            }
        }
        return in;
    }

    Map<String, IntTensor> intInputs() {
        return lengths == null ? Map.of() : Map.of("sequence_lens", IntTensor.of(lengths));
    }

    /** Swaps the first two axes of a 3-D tensor: [T, B, I] and [B, T, I], [D, B, H] and [B, D, H]. */
    static Tensor swap01(Tensor t) {
        int a = t.size(0);
        int b = t.size(1);
        int c = t.size(2);
        float[] out = new float[t.numel()];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(t.data(), (i * b + j) * c, out, (j * a + i) * c, c);
            }
        }
        return Tensor.of(out, b, a, c);
    }

    /** A layout-0 output in layout 1: Y [T, D, B, H] to [B, T, D, H]; states [D, B, H] to [B, D, H]. */
    static Tensor toLayout1(Tensor t) {
        if (t.rank() == 3) {
            return swap01(t);
        }
        int[] s = t.shape();
        int tt = s[0];
        int d = s[1];
        int b = s[2];
        int h = s[3];
        float[] out = new float[t.numel()];
        for (int i = 0; i < tt; i++) {
            for (int k = 0; k < d; k++) {
                for (int j = 0; j < b; j++) {
                    System.arraycopy(t.data(), ((i * d + k) * b + j) * h, out, ((j * tt + i) * d + k) * h, h);
                }
            }
        }
        return Tensor.of(out, b, tt, d, h);
    }

    static String describe(int[] a) {
        return Arrays.toString(a);
    }
}
