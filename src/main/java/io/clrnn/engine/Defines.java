package io.clrnn.engine;

import io.clrnn.WeightsDtype;
import io.clrnn.device.Device;
import io.clrnn.device.DeviceInfo;
import io.clrnn.device.KernelConstants;
import io.clrnn.model.Activation;
import io.clrnn.model.CellOptions;
import io.clrnn.model.CellType;
import io.clrnn.model.RnnConfig;

/**
 * The kernel sources of a module: the {@code #define}s that choose tiles, cell and variant, in front of
 * the kernel files. Everything here is fixed per module and device, so a module builds a fixed handful
 * of programs whatever the shapes it is called with.
 */
final class Defines {
    private Defines() {}

    static String projection(KernelPlan.ProjectionTiles t, WeightsDtype dtype, DeviceInfo device) {
        return define("VEC", t.vecP()) + define("TM", t.tm()) + define("NV", t.nv()) + define("PANEL", t.panel())
                + define("W_HALF", dtype == WeightsDtype.F16 ? 1 : 0) + define("HAS_FMA", device.hasFma() ? 1 : 0)
                + define("LOCAL_TILES", t.local() ? 1 : 0);
    }

    /**
     * common.cl, cell.cl, step.cl, then block.cl once for each row count TB, TB/2, ..., 1 (as block_a_N and
     * block_b_N), then recurrence.cl: one program holds every block size a batch can need.
     */
    static String recurrenceSource(WeightLayout layout, WeightsDtype dtype, DeviceInfo device,
            KernelPlan.Variant variant, boolean wLocal) {
        RnnConfig config = layout.config();
        KernelPlan.Tiles t = layout.tiles();
        StringBuilder s = new StringBuilder();
        s.append(define("VEC", t.vecR())).append(define("NVR", t.nvR())).append(define("TB", t.tb()))
                .append(define("CELL", cellId(config.mode())))
                .append(define("LBR", config.cell().linearBeforeReset() ? 1 : 0))
                .append(define("PROJ", config.projSize() > 0 ? 1 : 0))
                .append(define("PEEPHOLE", config.cell().peepholes() ? 1 : 0))
                .append(define("INPUT_FORGET", config.cell().inputForget() ? 1 : 0))
                .append(define("PANEL_R", layout.panelR())).append(define("PANEL_HR", Math.max(1, layout.panelHr())))
                .append(define("PANEL_P", layout.panelP()))
                .append(define("W_HALF", dtype == WeightsDtype.F16 ? 1 : 0))
                .append(define("HAS_FMA", device.hasFma() ? 1 : 0))
                .append(define("VARIANT", variant.id()))
                .append(define("FUSED", variant == KernelPlan.Variant.ROWS_FUSED ? 1 : 0))
                .append(define("W_LOCAL", wLocal ? 1 : 0));
        for (int slot = 0; slot < 3; slot++) {
            s.append("#define ACT_").append("FGH".charAt(slot)).append("(d, x) ")
                    .append(activation(config, slot)).append('\n');
        }
        CellOptions cell = config.cell();
        if (cell.hasClip()) {
            String c = Float.toHexString((float) cell.clip()) + "f";
            s.append("#define CLIP(x) ((x) < (floatV)(-").append(c).append(") ? (floatV)(-").append(c)
                    .append(") : (x) > (floatV)(").append(c).append(") ? (floatV)(").append(c).append(") : (x))\n");
        }
        s.append(Device.kernelSource("common.cl")).append('\n').append(Device.kernelSource("cell.cl")).append('\n')
                .append(Device.kernelSource("step.cl")).append('\n');
        String block = Device.kernelSource("block.cl");
        for (int rows = t.tb(); rows >= 1; rows /= 2) {
            s.append(define("ROWS", rows)).append(define("BLOCK_A", "block_a_" + rows))
                    .append(define("BLOCK_B", "block_b_" + rows)).append(block)
                    .append("\n#undef ROWS\n#undef BLOCK_A\n#undef BLOCK_B\n");
        }
        for (String phase : new String[] {"a", "b"}) {
            // n <= TB rows in blocks of TB, TB/2, ..., 1: each size at most once
            s.append(phase.equals("b") ? "#if TWO_PHASE\n" : "").append("void rows_").append(phase)
                    .append("(const Step *st, int b0, int n, int jb) {\n");
            for (int rows = t.tb(); rows >= 1; rows /= 2) {
                s.append("    if (n >= ").append(rows).append(") { block_").append(phase).append('_').append(rows)
                        .append("(st, b0, jb); b0 += ").append(rows).append("; n -= ").append(rows).append("; }\n");
            }
            s.append("}\n").append(phase.equals("b") ? "#endif\n" : "");
        }
        return s.append(Device.kernelSource("recurrence.cl")).toString();
    }

    /** cell.cl's CELL_RNN, CELL_LSTM or CELL_GRU. */
    private static int cellId(CellType mode) {
        return KernelConstants.code("cell.cl", switch (mode) {
            case RNN_TANH, RNN_RELU -> "CELL_RNN";
            case LSTM -> "CELL_LSTM";
            case GRU -> "CELL_GRU";
        });
    }

    /** Slot {@code slot}'s activation as a kernel expression, per direction when the two differ. */
    private static String activation(RnnConfig config, int slot) {
        int slots = config.mode().defaultActivations().size();
        if (slot >= slots) {
            return "act_tanh(x)"; // a slot this cell does not have
        }
        Activation forward = config.cell().activation(config.mode(), 0, slot);
        Activation reverse = config.cell().activation(config.mode(), config.numDirections() - 1, slot);
        return forward.equals(reverse) ? forward.openCl("(x)")
                : "((d) ? " + reverse.openCl("(x)") + " : " + forward.openCl("(x)") + ")";
    }

    private static String define(String name, Object value) {
        return "#define " + name + " " + value + "\n";
    }
}
