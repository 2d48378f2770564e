package io.clrnn.engine;

import io.clrnn.model.Forward;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * A batch in PackedSequence order, as PyTorch packs one: sequences sorted by length, longest first, so
 * that the sequences still running at step t are the first {@code batchSizes[t]}, and row (t, i) of the
 * packed arrays is {@code table[t] + i}. Padded steps take no row. Without lengths this is the plain
 * time-major order. A packed batch may be a slice (a run of the sorted order) of the caller's batch.
 */
final class PackedBatch {
    /** Packed position i holds the caller's sequence order[i]. */
    final int[] order;
    /** table[t]: packed row of (t, 0); table[seqLen]: all rows. */
    final int[] table;
    private final Forward forward;

    private PackedBatch(Forward forward, int[] order, int[] table) {
        this.forward = forward;
        this.order = order;
        this.table = table;
    }

    /**
     * The caller's sequences, longest first; ties keep the caller's order (PyTorch's sort is stable too).
     * Empty sequences (ONNX allows length 0) are left out: they take no work, and their outputs and final
     * states stay zero, as ONNX Runtime gives them.
     */
    static int[] sortedOrder(Forward forward) {
        if (forward.fullLength()) {
            return IntStream.range(0, forward.batch()).toArray();
        }
        return IntStream.range(0, forward.batch()).boxed().filter(b -> forward.length(b) > 0)
                .sorted(Comparator.comparingInt((Integer b) -> -forward.length(b)))
                .mapToInt(Integer::intValue).toArray();
    }

    /** Sequences sorted[from..to) of the caller's batch, packed. */
    static PackedBatch of(Forward forward, int[] sorted, int from, int to) {
        int[] order = Arrays.copyOfRange(sorted, from, to);
        int[] table = new int[forward.seqLen() + 1];
        int active = order.length;
        long rows = 0;
        for (int t = 0; t < forward.seqLen(); t++) {
            while (active > 0 && forward.length(order[active - 1]) <= t) {
                active--;
            }
            table[t] = (int) rows;
            rows += active;
        }
        table[forward.seqLen()] = Math.toIntExact(rows);
        return new PackedBatch(forward, order, table);
    }

    int batch() {
        return order.length;
    }

    /** Whether packed position i holds the caller's sequence i, for every i. */
    boolean inCallersOrder() {
        for (int i = 0; i < order.length; i++) {
            if (order[i] != i) {
                return false;
            }
        }
        return true;
    }

    /** Sequences in the caller's whole batch, of which this may be a slice. */
    int callerBatch() {
        return forward.batch();
    }

    int seqLen() {
        return forward.seqLen();
    }

    /** Sequences still running at step t. */
    int active(int t) {
        return table[t + 1] - table[t];
    }

    int rows() {
        return table[forward.seqLen()];
    }

    /** Rows of every sequence in [from, to) of {@code sorted}, without building the packing. */
    static long rows(Forward forward, int[] sorted, int from, int to) {
        long rows = 0;
        for (int i = from; i < to; i++) {
            rows += forward.length(sorted[i]);
        }
        return rows;
    }
}
