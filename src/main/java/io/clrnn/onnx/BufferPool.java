package io.clrnn.onnx;

import io.clrnn.device.ClBuffer;
import io.clrnn.device.Device;
import java.util.ArrayList;
import java.util.List;

/**
 * The device memory of a session's graph: blocks taken for a node's result and given back once its last
 * reader ran, then reused by later nodes and later runs. A block is taken by the smallest free one that holds
 * the request without wasting more than half of itself, else made new; commands on one in-order queue make
 * the reuse safe. Keeps count of the bytes in use and their peak.
 */
final class BufferPool implements AutoCloseable {
    /** A device buffer and the names (or operators) holding it; back in the pool when none is left. */
    static final class Block {
        final ClBuffer buffer;
        final long floats;
        private int holders;
        /** Kept for the session's life: a constant uploaded once, or a value folded at open. */
        private boolean pinned;
        private boolean free;
        private final BufferPool pool;

        private Block(BufferPool pool, ClBuffer buffer, long floats) {
            this.pool = pool;
            this.buffer = buffer;
            this.floats = floats;
        }

        void hold() {
            holders++;
        }

        /** One holder fewer; the last one gives the block back to its pool. */
        void release() {
            if (--holders <= 0 && !pinned && !free) {
                pool.giveBack(this);
            }
        }

        void pin() {
            pinned = true;
        }
    }

    /** Floats past a tensor's end in every block (the engine's {@code WorkspaceLayout.SLACK}). */
    static final int SLACK = 64;
    private final Device device;
    private final List<Block> free = new ArrayList<>();
    private final List<Block> all = new ArrayList<>();
    private long inUseBytes;
    private long peakBytes;

    BufferPool(Device device) {
        this.device = device;
    }

    /**
     * A block of at least {@code floats} floats, held by nobody yet: the names it is given to hold it, and
     * {@link #recycle} takes back whatever is left at the end of a run.
     */
    Block take(long floats) {
        // with slack past the end: the recurrent kernels, which read whole vectors at a row's ragged edge, can then
        // take a graph's tensors in place
        long want = floats + SLACK;
        Block best = null;
        for (Block b : free) {
            if (b.floats >= want && b.floats <= 2 * want && (best == null || b.floats < best.floats)) {
                best = b;
            }
        }
        if (best != null) {
            free.remove(best);
        } else {
            best = new Block(this, device.buffer(want * 4), want);
            all.add(best);
        }
        best.holders = 0;
        best.free = false;
        inUseBytes += best.floats * 4;
        peakBytes = Math.max(peakBytes, inUseBytes);
        return best;
    }

    private void giveBack(Block b) {
        inUseBytes -= b.floats * 4;
        b.free = true;
        free.add(b);
    }

    /** Takes back every block that is not pinned: the run that held them is over. */
    void recycle() {
        for (Block b : all) {
            if (!b.pinned && !b.free) {
                b.holders = 0;
                giveBack(b);
            }
        }
    }

    /** The most bytes held at once since the pool was made. */
    long peakBytes() {
        return peakBytes;
    }

    /** The bytes of every block made, free or not. */
    long allocatedBytes() {
        return all.stream().mapToLong(b -> b.floats * 4).sum();
    }

    @Override
    public void close() {
        all.forEach(b -> b.buffer.close());
        all.clear();
        free.clear();
    }
}
