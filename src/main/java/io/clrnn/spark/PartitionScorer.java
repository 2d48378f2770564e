package io.clrnn.spark;

import io.clrnn.InvalidInputException;
import io.clrnn.Rnn;
import io.clrnn.RnnInput;
import io.clrnn.RnnOutput;
import io.clrnn.Tensor;
import io.clrnn.model.ForwardShape;
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

    // The current group: its rows (copied: Spark reuses row objects), and each row's new values (null: all null).
    private final InternalRow[] rows;
    private final Object[][] results;
    private int count;
    private int next;
    // The group's good sequences, in row order: values (steps*I), steps, length, and the row they came from.
    private final float[][] values;
    private final int[] steps;
    private final int[] lengths;
    private final int[] slot;
    private float[] x = new float[0];

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
        int b = plan.batchSize();
        rows = new InternalRow[b];
        results = new Object[b][];
        values = new float[b][];
        steps = new int[b];
        lengths = new int[b];
        slot = new int[b];
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
        Object[] added = results[next];
        rows[next] = null;
        results[next] = null;
        next++;
        return project.apply(joined.apply(row, added == null ? nulls : new GenericInternalRow(added)));
    }

    /** Reads the next group of rows and scores its good ones in one forward. */
    private void scoreGroup() {
        if (rnn == null) {
            openModule();
        }
        count = 0;
        next = 0;
        int good = 0;
        int longest = 0;
        while (count < rows.length && input.hasNext()) {
            InternalRow row = input.next().copy();
            rows[count] = row;
            results[count] = null;
            String problem = read(row, good);
            if (problem == null) {
                slot[good] = count;
                longest = Math.max(longest, steps[good]);
                good++;
            } else {
                badRow(problem);
            }
            read++;
            count++;
        }
        if (good > 0) {
            forward(good, longest);
        }
    }

    private void openModule() {
        rnn = ExecutorModules.module(plan.weights(), plan.options(), DeviceChoice.resolve(plan.device(), TaskContext.get()));
        config = rnn.config();
        if (plan.inputSize() > 0 && plan.inputSize() != config.inputSize()) {
            // The module's own words for an input of the wrong width.
            ForwardShape.check(config, RnnInput.of(Tensor.zeros(1, 1, plan.inputSize())));
        }
        if (layout.cell() && !config.mode().hasCellState()) {
            throw new InvalidInputException("cellCol '" + plan.cellCol() + "' asks for c_n, but "
                    + config.mode().moduleName() + " has no cell state");
        }
    }

    /** Reads row {@code row} into the group's sequence {@code j}; the problem in one line, or null when good. */
    private String read(InternalRow row, int j) {
        int in = layout.inputOrdinal();
        if (row.isNullAt(in)) {
            return "the input is null";
        }
        ArrayData a = row.getArray(in);
        int inputSize = config.inputSize();
        float[] data;
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
            if (plan.seqLen() > 0 && t != plan.seqLen()) {
                return "the input has " + n + " values; expected seqLen " + plan.seqLen() + " x input_size "
                        + inputSize + " = " + (long) plan.seqLen() * inputSize;
            }
            if (layout.elementsMayBeNull() && anyNull(a)) {
                return "the input holds a null value";
            }
            data = new float[n];
            copy(a, data, 0);
        } else {
            t = a.numElements();
            if (t == 0) {
                return "the input has no steps";
            }
            if (plan.seqLen() > 0 && t != plan.seqLen()) {
                return "the input has " + t + " steps; expected seqLen " + plan.seqLen();
            }
            if (layout.stepsMayBeNull() && anyNull(a)) {
                return "a step of the input is null";
            }
            data = new float[t * inputSize];
            for (int s = 0; s < t; s++) {
                ArrayData step = a.getArray(s);
                if (step.numElements() != inputSize) {
                    return "step " + s + " has " + step.numElements() + " values; the module's input_size is "
                            + inputSize;
                }
                if (layout.elementsMayBeNull() && anyNull(step)) {
                    return "step " + s + " holds a null value";
                }
                copy(step, data, s * inputSize);
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
        values[j] = data;
        steps[j] = t;
        lengths[j] = length;
        return null;
    }

    private void badRow(String problem) {
        String where = "row " + read + " of partition " + partition + " (inputCol '" + plan.inputCol() + "')";
        if (plan.failOnBadRow()) {
            throw new InvalidInputException(where + ": " + problem + " (failOnBadRow is set)");
        }
        if (bad++ == 0) {
            firstBad = where + ": " + problem;
        }
    }

    /** One forward over the group's {@code good} sequences, padded to {@code longest} steps, batch first. */
    private void forward(int good, int longest) {
        int inputSize = config.inputSize();
        int size = good * longest * inputSize;
        if (x.length != size) {
            x = new float[size];
        } else {
            Arrays.fill(x, 0f);
        }
        boolean ragged = false;
        for (int j = 0; j < good; j++) {
            System.arraycopy(values[j], 0, x, j * longest * inputSize, steps[j] * inputSize);
            values[j] = null;
            ragged |= lengths[j] != longest;
        }
        RnnInput in = RnnInput.of(Tensor.of(x, good, longest, inputSize));
        if (ragged) {
            in = in.lengths(Arrays.copyOf(lengths, good));
        }
        RnnOutput y = rnn.forward(in);
        int features = config.numDirections() * config.outputSize(); // D*H_out per step
        int states = config.numLayers() * config.numDirections();
        float[] out = y.output().data(); // (good, longest, D*H_out)
        for (int j = 0; j < good; j++) {
            Object[] added = new Object[layout.added()];
            int k = 0;
            if (layout.output()) {
                int from = j * longest * features;
                added[k++] = layout.nested() ? steps(out, from, steps[j], features)
                        : floats(out, from, steps[j] * features);
            }
            if (layout.hidden()) {
                added[k++] = state(y.hidden().data(), states, good, config.outputSize(), j);
            }
            if (layout.cell()) {
                added[k++] = state(y.cell().data(), states, good, config.hiddenSize(), j);
            }
            results[slot[j]] = added;
        }
    }

    /** Sequence {@code j}'s slices of a state (layers*D, batch, width), as one flat array. */
    private static UnsafeArrayData state(float[] state, int slices, int batch, int width, int j) {
        if (slices == 1) {
            return floats(state, j * width, width);
        }
        float[] mine = new float[slices * width];
        for (int s = 0; s < slices; s++) {
            System.arraycopy(state, (s * batch + j) * width, mine, s * width, width);
        }
        return UnsafeArrayData.fromPrimitiveArray(mine);
    }

    private static GenericArrayData steps(float[] src, int from, int count, int width) {
        Object[] rows = new Object[count];
        for (int s = 0; s < count; s++) {
            rows[s] = floats(src, from + s * width, width);
        }
        return new GenericArrayData(rows);
    }

    /** {@code length} floats of {@code src} from {@code from}, as Spark's array, in one copy. */
    private static UnsafeArrayData floats(float[] src, int from, int length) {
        long offset = Platform.FLOAT_ARRAY_OFFSET + 4L * from;
        if (offset > Integer.MAX_VALUE) {
            return UnsafeArrayData.fromPrimitiveArray(Arrays.copyOfRange(src, from, from + length));
        }
        return UnsafeArrayData.fromPrimitiveArray(src, (int) offset, length, 4);
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
