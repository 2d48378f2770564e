package io.clrnn.model;

import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;

/**
 * The forward pass of every cell written plainly in Java with double accumulation: the second oracle
 * that every OpenCL kernel is tested against. Not a fallback; nothing picks it silently.
 */
public final class ReferenceRnn {
    private ReferenceRnn() {}

    public static RnnOutput forward(RnnWeights weights, Tensor x, Tensor h0) {
        return forward(weights, new RnnInput(x, h0, null, null));
    }

    public static RnnOutput forward(RnnWeights weights, RnnInput in) {
        return forward(weights, Forward.of(weights.config(), in));
    }

    /**
     * Any forward a {@link Forward} describes, read and written through its strides (PyTorch's layouts and ONNX's
     * alike). A sequence of length 0 is left out: its outputs and final states stay zero, as the engine leaves them.
     */
    public static RnnOutput forward(RnnWeights weights, Forward f) {
        RnnConfig config = weights.config();
        if (!config.equals(f.config())) {
            throw new IllegalArgumentException("a forward of " + f.config() + " given to weights of " + config);
        }
        Strides io = f.strides();
        RnnOutput results = f.zeroResults();
        int dirs = config.numDirections();
        int width = dirs * config.outputSize();
        int batch = f.batch();
        float[] layerIn = f.x().data();
        // Layer 0 reads x through the caller's strides, the layers after it the one before's (t, b) rows.
        long inT = io.xT();
        long inB = io.xB();
        int inWidth = config.inputSize();
        float[] layerOut = null;
        for (int layer = 0; layer < config.numLayers(); layer++) {
            layerOut = new float[Math.multiplyExact(Math.multiplyExact(f.seqLen(), batch), width)];
            for (int d = 0; d < dirs; d++) {
                Cell cell = new Cell(weights, layer, d);
                int state = layer * dirs + d;
                for (int b = 0; b < batch; b++) {
                    int length = f.length(b);
                    if (length == 0) {
                        continue;
                    }
                    double[] h = initial(f.h0(), io, state, b, config.outputSize());
                    double[] c = initial(f.c0(), io, state, b, config.hiddenSize());
                    for (int s = 0; s < length; s++) {
                        int t = config.direction().reverse(d) ? length - 1 - s : s;
                        h = cell.step(layerIn, (int) (t * inT + b * inB), inWidth, h, c);
                        int outRow = (t * batch + b) * width + d * config.outputSize();
                        for (int j = 0; j < h.length; j++) {
                            layerOut[outRow + j] = (float) h[j];
                        }
                    }
                    store(results.hidden(), io, state, b, h);
                    if (results.cell() != null) {
                        store(results.cell(), io, state, b, c);
                    }
                }
            }
            layerIn = layerOut;
            inT = (long) batch * width;
            inB = width;
            inWidth = width;
        }
        float[] out = results.output().data();
        for (int t = 0; t < f.seqLen(); t++) {
            for (int b = 0; b < batch; b++) {
                for (int d = 0; t < f.length(b) && d < dirs; d++) {
                    System.arraycopy(layerOut, (t * batch + b) * width + d * config.outputSize(), out,
                            (int) (t * io.outT() + b * io.outB() + d * io.outD()), config.outputSize());
                }
            }
        }
        return results;
    }

    private static double[] initial(Tensor states, Strides io, int s, int b, int width) {
        double[] v = new double[width];
        for (int j = 0; states != null && j < width; j++) {
            v[j] = states.data()[(int) ((s * io.stateS() + b * io.stateB()) * width) + j];
        }
        return v;
    }

    private static void store(Tensor states, Strides io, int s, int b, double[] v) {
        for (int j = 0; j < v.length; j++) {
            states.data()[(int) ((s * io.stateS() + b * io.stateB()) * v.length) + j] = (float) v[j];
        }
    }

    /** One layer and direction of a cell: its weights and the step from (h, c) to the next h (c in place). */
    private static final class Cell {
        private final RnnConfig config;
        private final CellType mode;
        private final CellOptions options;
        private final int d;
        private final int hidden;
        private final float[] wih;   // (G*H, K)
        private final float[] whh;   // (G*H, H_out)
        private final float[] bih;   // (G*H) or null
        private final float[] bhh;
        private final float[] whr;   // (P, H) or null
        private final float[] peep;  // (3*H) p_i, p_f, p_o, or null

        Cell(RnnWeights w, int layer, int d) {
            this.config = w.config();
            this.mode = config.mode();
            this.options = config.cell();
            this.d = d;
            this.hidden = config.hiddenSize();
            this.wih = w.weightIh(layer, d).data();
            this.whh = w.weightHh(layer, d).data();
            this.bih = config.bias() ? w.bias("ih", layer, d).data() : null;
            this.bhh = config.bias() ? w.bias("hh", layer, d).data() : null;
            this.whr = config.projSize() > 0 ? w.weightHr(layer, d).data() : null;
            this.peep = options.peepholes() ? w.peephole(layer, d).data() : null;
        }

        /** x . W_ih[row]^T + b_ih[row]. */
        private double inputPart(int row, float[] x, int offset, int k) {
            double acc = bih == null ? 0 : bih[row];
            for (int i = 0; i < k; i++) {
                acc += (double) wih[row * k + i] * x[offset + i];
            }
            return acc;
        }

        /** v . W_hh[row]^T + b_hh[row]. */
        private double hiddenPart(int row, double[] v) {
            double acc = bhh == null ? 0 : bhh[row];
            for (int i = 0; i < v.length; i++) {
                acc += (double) whh[row * v.length + i] * v[i];
            }
            return acc;
        }

        private double act(int slot, double x) {
            return options.activation(mode, d, slot).apply(clip(x));
        }

        private double clip(double x) {
            double c = options.clip();
            return x < -c ? -c : x > c ? c : x;
        }

        double[] step(float[] x, int offset, int k, double[] h, double[] c) {
            int n = hidden;
            double[] next = new double[n];
            switch (mode) {
                case RNN_TANH, RNN_RELU -> {
                    for (int j = 0; j < n; j++) {
                        next[j] = act(0, inputPart(j, x, offset, k) + hiddenPart(j, h));
                    }
                }
                case LSTM -> {
                    for (int j = 0; j < n; j++) {
                        double pi = peep == null ? 0 : peep[j];
                        double pf = peep == null ? 0 : peep[n + j];
                        double po = peep == null ? 0 : peep[2 * n + j];
                        double ig = act(0, inputPart(j, x, offset, k) + hiddenPart(j, h) + pi * c[j]);
                        double fg = options.inputForget() ? 1 - ig
                                : act(0, inputPart(n + j, x, offset, k) + hiddenPart(n + j, h) + pf * c[j]);
                        double gg = act(1, inputPart(2 * n + j, x, offset, k) + hiddenPart(2 * n + j, h));
                        c[j] = fg * c[j] + ig * gg;
                        double og = act(0, inputPart(3 * n + j, x, offset, k) + hiddenPart(3 * n + j, h) + po * c[j]);
                        next[j] = og * options.activation(mode, d, 2).apply(c[j]);
                    }
                    if (whr != null) {
                        double[] projected = new double[config.projSize()];
                        for (int p = 0; p < projected.length; p++) {
                            for (int j = 0; j < n; j++) {
                                projected[p] += (double) whr[p * n + j] * next[j];
                            }
                        }
                        return projected;
                    }
                }
                case GRU -> {
                    double[] r = new double[n];
                    double[] z = new double[n];
                    for (int j = 0; j < n; j++) {
                        r[j] = act(0, inputPart(j, x, offset, k) + hiddenPart(j, h));
                        z[j] = act(0, inputPart(n + j, x, offset, k) + hiddenPart(n + j, h));
                    }
                    double[] rh = new double[n];
                    for (int j = 0; j < n; j++) {
                        rh[j] = r[j] * h[j];
                    }
                    for (int j = 0; j < n; j++) {
                        double candidate = options.linearBeforeReset()
                                ? inputPart(2 * n + j, x, offset, k) + r[j] * hiddenPart(2 * n + j, h)
                                : inputPart(2 * n + j, x, offset, k) + hiddenPart(2 * n + j, rh);
                        double nj = act(1, candidate);
                        next[j] = nj + z[j] * (h[j] - nj);
                    }
                }
            }
            return next;
        }
    }
}
