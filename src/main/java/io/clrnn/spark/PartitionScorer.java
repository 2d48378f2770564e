package io.clrnn.spark;

import io.clrnn.base.InvalidInputException;
import io.clrnn.Rnn;
import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;
import io.clrnn.model.Forward;
import io.clrnn.model.RnnConfig;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.unsafe.Platform;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores one partition: reads up to batchSize rows, pads the group's sequences to its longest (each row's own
 * length passed as {@code lengths}), runs one forward, and hands the rows back in their order with the outputs
 * appended. A null or malformed row takes no part in the forward and gets null outputs, or fails the task when
 * failOnBadRow. Rows are read lazily, one group ahead.
 */
final class PartitionScorer implements Iterator<InternalRow> {
    private static final Logger log = LoggerFactory.getLogger(PartitionScorer.class);

    private final ScoringPlan plan;
    private final Layout layout;
    private final Iterator<InternalRow> input;
    private final int partition;
    private final UnsafeProjection project;
    private final JoinedRow joined = new JoinedRow();
    private final GenericInternalRow nulls;

    private Rnn rnn;
    private RnnConfig config;

    // The current group: its rows (copied: Spark reuses row objects), and which good sequence each row is (-1: a
    // bad row, null outputs). Spark's own rows are copied into one arena, reused from group to group.
    private final InternalRow[] rows;
    private final UnsafeRow[] kept;
    private byte[] arena = new byte[0];
    private int arenaUsed;
    private final int[] sequenceOf;
    private int count;
    private int next;
    // The group's good sequences, in row order: the input array, its steps and length.
    private final ArrayData[] inputs;
    private final int[] steps;
    private final int[] lengths;
    private int longest;
    private float[] x = new float[0];
    private RnnOutput y;
    // Reused views that hand one row's outputs to the projection, which copies them into the row it makes.
    private final FloatArrays outputView = new FloatArrays();
    private final FloatArrays hiddenView = new FloatArrays();
    private final FloatArrays cellView = new FloatArrays();
    private final Object[] added;
    private final GenericInternalRow addedRow;

    private long read;
    private long bad;
    private String firstBad;

    PartitionScorer(ScoringPlan plan, Iterator<InternalRow> input) {
        this.plan = plan;
        this.layout = Layout.of(plan.inputSchema(), plan);
        this.input = input;
        TaskContext task = TaskContext.get();
        this.partition = task == null ? -1 : task.partitionId();
        this.project = UnsafeProjection.create(layout.outputSchema());
        this.nulls = new GenericInternalRow(layout.added());
        int b = plan.batchSize;
        rows = new InternalRow[b];
        kept = new UnsafeRow[b];
        sequenceOf = new int[b];
        inputs = new ArrayData[b];
        steps = new int[b];
        lengths = new int[b];
        added = new Object[layout.added()];
        addedRow = new GenericInternalRow(added);
    }

    @Override
    public boolean hasNext() {
        if (next < count) {
            return true;
        }
        if (!input.hasNext()) {
            if (bad > 0) {
                log.warn("partition {}: {} of {} rows were null or malformed and got null outputs; the first: {}",
                        partition, bad, read, firstBad);
                bad = 0;
            }
            return false;
        }
        scoreGroup();
        return true;
    }

    @Override
    public InternalRow next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        InternalRow row = rows[next];
        int j = sequenceOf[next];
        rows[next] = null;
        next++;
        if (j < 0) {
            return project.apply(joined.apply(row, nulls));
        }
        outputs(j);
        return project.apply(joined.apply(row, addedRow));
    }

    /** Reads the next group of rows and scores its good ones in one forward. */
    private void scoreGroup() {
        if (rnn == null) {
            openModule();
        }
        count = 0;
        next = 0;
        int good = 0;
        longest = 0;
        y = null;
        arenaUsed = 0;
        while (count < rows.length && input.hasNext()) {
            InternalRow row = keep(input.next(), count);
            rows[count] = row;
            String problem = read(row, good);
            if (problem == null) {
                sequenceOf[count] = good;
                longest = Math.max(longest, steps[good]);
                good++;
            } else {
                sequenceOf[count] = -1;
                badRow(problem);
            }
            read++;
            count++;
        }
        if (good > 0) {
            forward(good);
        }
    }

    /**
     * A copy of {@code row} that outlives the input iterator's next call: in the arena when it is Spark's own
     * UnsafeRow (as rows from scans and caches are), else a plain copy. The arena is reused by the next group,
     * whose rows are read only after this group's have all been handed on.
     */
    private InternalRow keep(InternalRow row, int slot) {
        if (!(row instanceof UnsafeRow u)) {
            return row.copy();
        }
        int size = u.getSizeInBytes();
        if (arena.length - arenaUsed < size) {
            // Rows kept so far still point at the old arena; the new one serves the rest, and later groups.
            arena = new byte[Math.max(2 * arena.length, Math.max(size, 1 << 16))];
            arenaUsed = 0;
        }
        Platform.copyMemory(u.getBaseObject(), u.getBaseOffset(), arena, Platform.BYTE_ARRAY_OFFSET + arenaUsed, size);
        if (kept[slot] == null || kept[slot].numFields() != u.numFields()) {
            kept[slot] = new UnsafeRow(u.numFields());
        }
        kept[slot].pointTo(arena, Platform.BYTE_ARRAY_OFFSET + arenaUsed, size);
        arenaUsed += size; // UnsafeRow sizes are whole 8-byte words: every row stays aligned
        return kept[slot];
    }

    private void openModule() {
        rnn = ExecutorModules.module(plan.weights, plan.options(), DeviceChoice.resolve(plan.device, TaskContext.get()));
        config = rnn.config();
        if (plan.inputSize > 0 && plan.inputSize != config.inputSize()) {
            // The module's own words for an input of the wrong width.
            Forward.of(config, RnnInput.of(Tensor.zeros(1, 1, plan.inputSize)));
        }
        if (layout.cell() && !config.mode().hasCellState()) {
            throw new InvalidInputException("cellCol '" + plan.cellCol + "' asks for c_n, but "
                    + config.mode().moduleName() + " has no cell state");
        }
    }

    /** Checks row {@code row} and makes it the group's sequence {@code j}; the problem in one line, or null when good. */
    private String read(InternalRow row, int j) {
        int in = layout.inputOrdinal();
        if (row.isNullAt(in)) {
            return "the input is null";
        }
        ArrayData a = row.getArray(in);
        int inputSize = config.inputSize();
        int t;
        if (!layout.nested()) {
            int n = a.numElements();
            if (n == 0) {
                return "the input is empty";
            }
            if (n % inputSize != 0) {
                return "the input has " + n + " values, not a whole number of steps of input_size " + inputSize;
            }
            t = n / inputSize;
            if (plan.seqLen > 0 && t != plan.seqLen) {
                return "the input has " + n + " values; expected seqLen " + plan.seqLen + " x input_size "
                        + inputSize + " = " + (long) plan.seqLen * inputSize;
            }
            if (layout.elementsMayBeNull() && anyNull(a)) {
                return "the input holds a null value";
            }
        } else {
            t = a.numElements();
            if (t == 0) {
                return "the input has no steps";
            }
            if (plan.seqLen > 0 && t != plan.seqLen) {
                return "the input has " + t + " steps; expected seqLen " + plan.seqLen;
            }
            if (layout.stepsMayBeNull() && anyNull(a)) {
                return "a step of the input is null";
            }
            for (int s = 0; s < t; s++) {
                ArrayData step = a.getArray(s);
                if (step.numElements() != inputSize) {
                    return "step " + s + " has " + step.numElements() + " values; the module's input_size is "
                            + inputSize;
                }
                if (layout.elementsMayBeNull() && anyNull(step)) {
                    return "step " + s + " holds a null value";
                }
            }
        }
        int length = t;
        int l = layout.lengthsOrdinal();
        if (l >= 0 && !row.isNullAt(l)) {
            long v = layout.lengthsLong() ? row.getLong(l) : row.getInt(l);
            if (v < 1 || v > t) {
                return "length " + v + " is outside 1.." + t + " (the row's sequence length)";
            }
            length = (int) v;
        }
        inputs[j] = a;
        steps[j] = t;
        lengths[j] = length;
        return null;
    }

    private void badRow(String problem) {
        String where = "row " + read + " of partition " + partition + " (inputCol '" + plan.inputCol + "')";
        if (plan.failOnBadRow) {
            throw new InvalidInputException(where + ": " + problem + " (failOnBadRow is set)");
        }
        if (bad++ == 0) {
            firstBad = where + ": " + problem;
        }
    }

    /** One forward over the group's {@code good} sequences, padded to the longest, batch first. */
    private void forward(int good) {
        int inputSize = config.inputSize();
        int size = good * longest * inputSize;
        boolean ragged = false;
        boolean padded = false;
        for (int j = 0; j < good; j++) {
            ragged |= lengths[j] != longest;
            padded |= steps[j] != longest;
        }
        if (x.length != size) {
            x = new float[size];
        } else if (padded) {
            Arrays.fill(x, 0f);
        }
        for (int j = 0; j < good; j++) {
            int at = j * longest * inputSize;
            if (layout.nested()) {
                for (int s = 0; s < steps[j]; s++) {
                    copy(inputs[j].getArray(s), x, at + s * inputSize);
                }
            } else {
                copy(inputs[j], x, at);
            }
            inputs[j] = null;
        }
        RnnInput in = RnnInput.of(Tensor.of(x, good, longest, inputSize));
        y = rnn.forward(ragged ? in.lengths(Arrays.copyOf(lengths, good)) : in);
    }

    /** Puts sequence {@code j}'s outputs into {@code added}, as views the projection copies before the next row's. */
    private void outputs(int j) {
        int features = config.numDirections() * config.outputSize(); // D*H_out per step
        int states = config.numLayers() * config.numDirections();
        int batch = y.hidden().size(1);
        int k = 0;
        if (layout.output()) {
            float[] out = y.output().data(); // (batch, longest, D*H_out)
            int from = j * longest * features;
            added[k++] = layout.nested() ? steps(out, from, steps[j], features)
                    : outputView.of(out, from, steps[j] * features);
        }
        if (layout.hidden()) {
            added[k++] = hiddenView.ofSlices(y.hidden().data(), states, batch, config.outputSize(), j);
        }
        if (layout.cell()) {
            added[k] = cellView.ofSlices(y.cell().data(), states, batch, config.hiddenSize(), j);
        }
    }

    /**
     * A nested output: one array per step; each its own, since the projection reads them all at once. Each step is
     * copied once, straight from {@code src} into its UnsafeArrayData, by byte offset; that offset is an int in
     * Spark's API, so a step beyond 2 GiB into {@code src} goes through a copy of its own instead.
     */
    private static GenericArrayData steps(float[] src, int from, int count, int width) {
        Object[] rows = new Object[count];
        for (int s = 0; s < count; s++) {
            int at = from + s * width;
            long offset = Platform.FLOAT_ARRAY_OFFSET + 4L * at;
            rows[s] = offset <= Integer.MAX_VALUE
                    ? UnsafeArrayData.fromPrimitiveArray(src, (int) offset, width, Float.BYTES)
                    : UnsafeArrayData.fromPrimitiveArray(Arrays.copyOfRange(src, at, at + width));
        }
        return new GenericArrayData(rows);
    }

    /** Copies a float or double array's values into {@code dst} from {@code at}. */
    private void copy(ArrayData src, float[] dst, int at) {
        int n = src.numElements();
        if (!layout.doubles() && src instanceof UnsafeArrayData u) {
            Platform.copyMemory(u.getBaseObject(), u.getBaseOffset() + UnsafeArrayData.calculateHeaderPortionInBytes(n),
                    dst, Platform.FLOAT_ARRAY_OFFSET + 4L * at, 4L * n);
        } else if (layout.doubles()) {
            for (int i = 0; i < n; i++) {
                dst[at + i] = (float) src.getDouble(i);
            }
        } else {
            for (int i = 0; i < n; i++) {
                dst[at + i] = src.getFloat(i);
            }
        }
    }

    /** Whether any element is null; on Spark's own arrays, a scan of the null bits a word at a time. */
    static boolean anyNull(ArrayData a) {
        int n = a.numElements();
        if (a instanceof UnsafeArrayData u) {
            Object base = u.getBaseObject();
            long bits = u.getBaseOffset() + 8; // after the element count
            for (int w = 0; w * 64 < n; w++) {
                long word = Platform.getLong(base, bits + 8L * w);
                int valid = Math.min(64, n - w * 64);
                if ((valid == 64 ? word : word & ((1L << valid) - 1)) != 0) {
                    return true;
                }
            }
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (a.isNullAt(i)) {
                return true;
            }
        }
        return false;
    }
}
