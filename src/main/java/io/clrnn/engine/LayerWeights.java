package io.clrnn.engine;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;
import io.clrnn.base.WeightsDtype;
import io.clrnn.device.ClBuffer;
import io.clrnn.device.Device;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import java.util.ArrayList;
import java.util.List;

/**
 * One layer's weights on the device, every direction side by side, in {@link WeightLayout}'s order:
 * W_ih^T (K, ldn) with the input-side bias of each column, W_hh^T (D, H_out, G*hp), and where the cell has
 * them GRU's b_hn (D, hp), LSTM's W_hr^T (D, H, pp) and ONNX's peepholes (D, 3, hp). Absent ones are the
 * workspace's placeholder, which this layer does not own.
 */
record LayerWeights(ClBuffer wihT, ClBuffer bias, ClBuffer whhT, ClBuffer bhn, ClBuffer whrT, ClBuffer peep,
        List<ClBuffer> owned) implements AutoCloseable {

    /** Packs and uploads layer {@code layer}; on any failure the buffers made so far are released. */
    static LayerWeights upload(Device device, Workspace workspace, RnnWeights weights, WeightLayout layout,
            WeightsDtype dtype, int layer) {
        List<ClBuffer> owned = new ArrayList<>();
        try {
            Packed p = pack(weights, layout, layer);
            ClBuffer wihT = keep(owned, workspace.constant(p.wihT, dtype));
            ClBuffer bias = keep(owned, workspace.constant(p.bias, WeightsDtype.F32));
            ClBuffer whhT = keep(owned, workspace.constant(p.whhT, dtype));
            ClBuffer bhn = p.bhn == null ? workspace.placeholder() : keep(owned, workspace.constant(p.bhn, WeightsDtype.F32));
            ClBuffer whrT = p.whrT == null ? workspace.placeholder() : keep(owned, workspace.constant(p.whrT, dtype));
            ClBuffer peep = p.peep == null ? workspace.placeholder() : keep(owned, workspace.constant(p.peep, WeightsDtype.F32));
            return new LayerWeights(wihT, bias, whhT, bhn, whrT, peep, List.copyOf(owned));
        } catch (RuntimeException e) {
            owned.forEach(ClBuffer::close);
            throw e;
        }
    }

    private static ClBuffer keep(List<ClBuffer> owned, ClBuffer b) {
        owned.add(b);
        return b;
    }

    /** The host-side arrays in the kernels' layouts. */
    private record Packed(float[] wihT, float[] bias, float[] whhT, float[] bhn, float[] whrT, float[] peep) {}

    private static Packed pack(RnnWeights weights, WeightLayout layout, int layer) {
        RnnConfig config = weights.config();
        int dirs = config.numDirections();
        int hidden = config.hiddenSize();
        int gates = config.gates();
        int hIn = config.outputSize();
        int k = config.layerInputSize(layer);
        boolean lbrGru = config.mode() == CellType.GRU && config.cell().linearBeforeReset();
        float[] wihT = new float[floats((long) k * layout.ldn())];
        float[] bias = new float[layout.ldn()];
        float[] whhT = new float[floats((long) dirs * hIn * layout.directionWidth())];
        float[] bhn = lbrGru ? new float[dirs * layout.hp()] : null;
        float[] whrT = config.projSize() > 0 ? new float[floats((long) dirs * hidden * layout.pp())] : null;
        float[] peep = config.cell().peepholes() ? new float[dirs * 3 * layout.hp()] : null;
        for (int d = 0; d < dirs; d++) {
            float[] wih = weights.weightIh(layer, d).data(); // (G*H, K)
            float[] whh = weights.weightHh(layer, d).data(); // (G*H, H_out)
            float[] bih = data(weights.bias("ih", layer, d)); // (G*H) or null
            float[] bhh = data(weights.bias("hh", layer, d));
            for (int g = 0; g < gates; g++) {
                // GRU's b_hn sits inside r * (W_hn h + b_hn) when linear_before_reset: it cannot join the input side.
                boolean hiddenBiasApart = lbrGru && g == 2;
                for (int j = 0; j < hidden; j++) {
                    int row = g * hidden + j;
                    int column = layout.column(d, g, j);
                    int inDirection = column - d * layout.directionWidth();
                    if (bih != null) {
                        bias[column] = bih[row] + (hiddenBiasApart ? 0 : bhh[row]);
                        if (hiddenBiasApart) {
                            bhn[d * layout.hp() + j] = bhh[row];
                        }
                    }
                    for (int i = 0; i < k; i++) {
                        wihT[(int) layout.wihIndex(i, column, k)] = wih[row * k + i];
                    }
                    for (int i = 0; i < hIn; i++) {
                        whhT[(int) layout.whhIndex(d, i, inDirection, hIn)] = whh[row * hIn + i];
                    }
                }
            }
            if (whrT != null) {
                float[] whr = weights.weightHr(layer, d).data(); // (P, H)
                for (int p = 0; p < config.projSize(); p++) {
                    for (int j = 0; j < hidden; j++) {
                        whrT[(int) layout.whrIndex(d, j, p)] = whr[p * hidden + j];
                    }
                }
            }
            if (peep != null) {
                float[] pw = weights.peephole(layer, d).data(); // (3*H): p_i, p_f, p_o
                for (int q = 0; q < 3; q++) {
                    System.arraycopy(pw, q * hidden, peep, (d * 3 + q) * layout.hp(), hidden);
                }
            }
        }
        return new Packed(wihT, bias, whhT, bhn, whrT, peep);
    }

    private static float[] data(Tensor t) {
        return t == null ? null : t.data();
    }

    private static int floats(long n) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException("a layer's weights of " + n + " floats are too large for one array");
        }
        return (int) n;
    }

    @Override
    public void close() {
        owned.forEach(ClBuffer::close);
    }
}
