package io.clrnn.engine;

import io.clrnn.base.WeightsDtype;
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
 * of programs whatever the shapes it is called with. The defines are numbers and names only, the rest
 * of the C is in the kernel files (as CLBlast does it): each file compiles with its own defaults.
 */
final class KernelSources {
    private KernelSources() {}

    static String projection(KernelPlanner.ProjectionTiles t, WeightsDtype dtype, DeviceInfo device) {
        return define("VEC", t.vecP()) + define("TM", t.tm()) + define("NV", t.nv()) + define("PANEL", t.panel())
                + define("W_HALF", dtype == WeightsDtype.F16 ? 1 : 0) + define("HAS_FMA", device.hasFma() ? 1 : 0)
                + define("LOCAL_TILES", t.local() ? 1 : 0);
    }

    /**
     * The recurrence program: {@code #define}s of numbers and names, in front of {@link #recurrenceFiles} for the
     * module's TB. Activations and clip are numbers too (ids and float literals), which cell.cl makes into
     * code itself, as recurrence.cl makes the calls of each block size from TB.
     */
    static String recurrenceSource(WeightLayout layout, WeightsDtype dtype, DeviceInfo device,
            KernelPlanner.Variant variant, boolean wLocal) {
        RnnConfig config = layout.config();
        Tiles t = layout.tiles();
        CellOptions cell = config.cell();
        StringBuilder s = new StringBuilder();
        s.append(define("VEC", t.vecR())).append(define("NVR", t.nvR())).append(define("TB", t.tb()))
                .append(define("CELL", cellId(config.mode())))
                .append(define("LBR", cell.linearBeforeReset() ? 1 : 0))
                .append(define("PROJ", config.projSize() > 0 ? 1 : 0))
                .append(define("PEEPHOLE", cell.peepholes() ? 1 : 0))
                .append(define("INPUT_FORGET", cell.inputForget() ? 1 : 0))
                .append(define("PANEL_R", layout.panelR())).append(define("PANEL_HR", Math.max(1, layout.panelHr())))
                .append(define("PANEL_P", layout.panelP()))
                .append(define("W_HALF", dtype == WeightsDtype.F16 ? 1 : 0))
                .append(define("HAS_FMA", device.hasFma() ? 1 : 0))
                .append(define("VARIANT", variant.id()))
                .append(define("FUSED", variant == KernelPlanner.Variant.ROWS_FUSED ? 1 : 0))
                .append(define("W_LOCAL", wLocal ? 1 : 0));
        // slots the cell does not have keep cell.cl's default
        for (int slot = 0; slot < config.mode().defaultActivations().size(); slot++) {
            String name = "ACT_" + "FGH".charAt(slot);
            Activation forward = cell.activation(config.mode(), 0, slot);
            Activation reverse = cell.activation(config.mode(), config.numDirections() - 1, slot);
            activation(s, name, forward);
            if (!reverse.equals(forward)) {
                activation(s, name + "_REV", reverse);
            }
        }
        if (cell.hasClip()) {
            s.append(define("HAS_CLIP", 1)).append(define("CLIP_VALUE", floatLiteral((float) cell.clip())));
        }
        return s.append(recurrenceFiles(t.tb())).toString();
    }

    /**
     * common.cl, cell.cl, step.cl, then block.cl once for each row count tb, tb/2, ..., 1 (block.cl says why),
     * then recurrence.cl: one program holds every block size a batch can need.
     */
    static String recurrenceFiles(int tb) {
        StringBuilder s = new StringBuilder();
        for (String file : new String[] {"common.cl", "cell.cl", "step.cl"}) {
            s.append(Device.kernelSource(file)).append('\n');
        }
        String block = Device.kernelSource("block.cl");
        for (int rows = tb; rows >= 1; rows /= 2) {
            s.append(define("ROWS", rows)).append(block).append('\n');
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

    /** cell.cl's slot {@code name}: the activation's id (ACT_ and its function's name there) with its parameters. */
    private static void activation(StringBuilder s, String name, Activation a) {
        s.append(define(name + "_ID", KernelConstants.code("cell.cl", "ACT_" + a.function().name())))
                .append(define(name + "_ALPHA", floatLiteral(a.alpha())))
                .append(define(name + "_BETA", floatLiteral(a.beta())));
    }

    /** The exact value of {@code v} as an OpenCL float literal (hexadecimal). */
    private static String floatLiteral(float v) {
        return Float.toHexString(v) + "f";
    }

    private static String define(String name, Object value) {
        return "#define " + name + " " + value + "\n";
    }
}
