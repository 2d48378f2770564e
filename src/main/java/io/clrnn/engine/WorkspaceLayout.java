package io.clrnn.engine;

import io.clrnn.model.RnnConfig;
import java.util.Locale;

/**
 * The per-call buffers of one forward slice and where each region starts, in floats, all in exact long
 * arithmetic (an overflow throws instead of wrapping).
 *
 * <p>{@code in}: X (packed rows x input_size), h_0, c_0, then the step table and the batch's order (ints). The last layer's
 * output buffer: out (packed rows x D*H_out), h_n, c_n. Each buffer also covers the projection's padded
 * rows, and ends with {@link #SLACK} floats, since kernels read whole vectors at a row's ragged edge.
 */
record WorkspaceLayout(long rows, long paddedRows, long h0Offset, long c0Offset, long tableOffset, long orderOffset,
        long inFloats,
        long pFloats, long hnOffset, long cnOffset, long yFloats, long scratchFloats, long uploadFloats,
        long downloadFloats, boolean twoOutputs) {
    static final int SLACK = 64;

    /** With rows padded to the largest projection tile the layout's device may run. */
    static WorkspaceLayout of(WeightLayout layout, int seqLen, int batch, long rows) {
        return of(layout, seqLen, batch, rows, layout.tiles().localProjection()
                ? Math.max(layout.tiles().tm(), Tiles.LOCAL_M) : layout.tiles().tm());
    }

    static WorkspaceLayout of(WeightLayout layout, int seqLen, int batch, long rows, int tm) {
        RnnConfig c = layout.config();
        long padded = Tiles.roundUp(Math.max(rows, 1), tm);
        long states = Math.multiplyExact((long) c.numLayers() * c.numDirections(), batch);
        long h = Math.multiplyExact(states, c.outputSize());
        long cell = c.mode().hasCellState() ? Math.multiplyExact(states, c.hiddenSize()) : 0;
        long x = Math.multiplyExact(rows, c.inputSize());
        long h0 = x;
        long c0 = Math.addExact(h0, h);
        long table = Math.addExact(c0, cell);
        long order = Math.addExact(table, seqLen + 1L);
        long upload = Math.addExact(order, batch);
        long in = Math.addExact(Math.max(upload, Math.multiplyExact(padded, Math.max(c.inputSize(), 1))), SLACK);
        long p = Math.addExact(Math.multiplyExact(padded, layout.ldn()), SLACK);
        long ldy = (long) c.numDirections() * c.outputSize();
        long out = Math.multiplyExact(rows, ldy);
        long download = Math.addExact(Math.addExact(out, h), cell);
        long y = Math.addExact(Math.max(download, Math.multiplyExact(padded, ldy)), SLACK);
        long scratch = KernelPlanner.twoPhase(c) ? Math.multiplyExact(2L * c.numDirections() * batch, layout.hp()) : 1;
        return new WorkspaceLayout(rows, padded, h0, c0, table, order, in, p, out, out + h, y, scratch, upload, download,
                c.numLayers() > 1);
    }

    long largestBuffer() {
        return 4 * Math.max(Math.max(inFloats, pFloats), Math.max(yFloats, scratchFloats));
    }

    long allBuffers() {
        return 4 * (inFloats + pFloats + yFloats * (twoOutputs ? 2 : 1) + scratchFloats);
    }

    long largestTransfer() {
        return 4 * Math.max(uploadFloats, downloadFloats);
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }
}
