package io.clrnn.engine;

/**
 * The tiles of one module's kernels on one device, chosen by {@link KernelPlanner#tiles}.
 *
 * @param vecP      floats per vector in the projection (along N)
 * @param tm        rows per projection work-item
 * @param nv        vectors per projection work-item along N
 * @param vecR      floats per vector in the recurrence (along hidden units)
 * @param nvR       vectors per register block along hidden units
 * @param tb        batch rows per register block, a power of two up to 16
 * @param panels    whether weights are packed in tile-wide panels (CPUs) rather than row-major (GPUs)
 * @param smallTile whether tiny products switch to a 4 x vecP projection tile
 * @param localX    projection work-group along N tiles
 * @param localY    projection work-group along M tiles
 * @param localProjection whether the projection stages its tiles in local memory (project_local: GPUs)
 */
public record Tiles(int vecP, int tm, int nv, int vecR, int nvR, int tb, boolean panels, boolean smallTile,
        int localX, int localY, boolean localProjection) {
    public Tiles {
        if (Integer.bitCount(tb) != 1 || tb > 16) {
            throw new IllegalArgumentException("tb must be a power of two up to 16, got " + tb);
        }
    }

    /** project_local's tile (projection.cl's TSM x TSN). */
    static final int LOCAL_M = 64;
    static final int LOCAL_N = 64;

    /** {@code n} rounded up to a whole number of {@code multiple}s: a dimension padded to whole tiles. */
    static int roundUp(int n, int multiple) {
        return ceilDiv(n, multiple) * multiple;
    }

    static long roundUp(long n, long multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    /** Tiles of {@code d} that cover {@code n}. */
    static int ceilDiv(int n, int d) {
        return (n + d - 1) / d;
    }
}
