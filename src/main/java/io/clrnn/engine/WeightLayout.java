package io.clrnn.engine;

import io.clrnn.model.RnnConfig;

/**
 * How a module's weights are laid out for the kernels, derived from its config and tiles in one place
 * so that every width agrees.
 *
 * <p>Columns are gate-interleaved: within direction d, hidden units go in blocks of {@code unit} (the
 * recurrence's NVR*VEC), and each block holds all G gates of its units side by side, so the work-item
 * that owns a block of units reads every gate of them from one contiguous run. Column (d, g, j) is
 * {@code d*G*hp + (j/unit)*G*unit + g*unit + j%unit}; units past hidden_size are zero-weighted padding.
 *
 * @param gates   G
 * @param unit    hidden units per register block: NVR*VEC of the recurrence
 * @param hp      hidden_size padded to whole unit blocks
 * @param pp      proj_size padded to whole unit blocks (0 without projection)
 * @param ldn     columns of the projection: D*G*hp padded to the projection tile's width
 * @param panelP  columns per panel of W_ih^T: the projection tile's width on CPUs (a tile then streams
 *                contiguous memory instead of touching a new page at every k), ldn (row-major) on GPUs,
 *                where neighbouring work-items must read neighbouring addresses
 * @param panelR  columns per panel of W_hh^T: one unit block on CPUs, G*hp (row-major) on GPUs
 * @param panelHr columns per panel of W_hr^T: one unit block on CPUs, pp on GPUs
 */
public record WeightLayout(RnnConfig config, Tiles tiles, int gates, int unit, int hp, int pp, int ldn,
        int panelP, int panelR, int panelHr) {

    public static WeightLayout of(RnnConfig config, Tiles tiles) {
        int gates = config.gates();
        int unit = tiles.nvR() * tiles.vecR();
        int hp = Tiles.roundUp(config.hiddenSize(), unit);
        int pp = config.projSize() > 0 ? Tiles.roundUp(config.projSize(), unit) : 0;
        int tileN = tiles.nv() * tiles.vecP();
        // project_local's tile is wider; a multiple of both serves either kernel
        int ldn = Tiles.roundUp(config.numDirections() * gates * hp,
                tiles.localProjection() ? Math.max(tileN, Tiles.LOCAL_N) : tileN);
        boolean panels = tiles.panels();
        return new WeightLayout(config, tiles, gates, unit, hp, pp, ldn, panels ? tileN : ldn,
                panels ? gates * unit : gates * hp, panels ? unit : pp);
    }

    /** Width of one direction's columns in P and W_hh^T. */
    public int directionWidth() {
        return gates * hp;
    }

    /** Blocks of {@code unit} units per direction, over the wider of the hidden and projected sizes. */
    public int unitBlocks() {
        return Math.max(hp, pp) / unit;
    }

    /** Column of gate g, hidden unit j of direction d. */
    public int column(int d, int g, int j) {
        return d * gates * hp + (j / unit) * gates * unit + g * unit + j % unit;
    }

    /** Where W_ih^T[k][c] goes in the packed buffer of K rows. */
    public long wihIndex(int k, int c, int kSize) {
        return (long) (c / panelP) * kSize * panelP + (long) k * panelP + c % panelP;
    }

    /** Where W_hh^T[k][c] of direction d goes, c being a column within the direction; hIn rows per direction. */
    public long whhIndex(int d, int k, int c, int hIn) {
        return (long) d * hIn * directionWidth() + (long) (c / panelR) * hIn * panelR + (long) k * panelR + c % panelR;
    }

    /** Where W_hr^T[k][p] of direction d goes (k < hidden_size, p < proj_size). */
    public long whrIndex(int d, int k, int p) {
        int hidden = config.hiddenSize();
        return (long) d * hidden * pp + (long) (p / panelHr) * hidden * panelHr + (long) k * panelHr + p % panelHr;
    }
}
