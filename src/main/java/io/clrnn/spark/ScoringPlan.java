package io.clrnn.spark;

import io.clrnn.Nonlinearity;
import io.clrnn.RnnOptions;
import io.clrnn.base.WeightsDtype;
import io.clrnn.model.CellType;
import java.util.Iterator;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * What a {@link ClrnnScorer} sends to its tasks: strings and numbers only (the weights path, the options as
 * their names, the device spec, the column names and the input schema as JSON), each taken from the scorer's
 * param of the same name, where it is described. Each task turns it into a {@link PartitionScorer} over the
 * module its executor keeps; no device or module ever travels.
 */
final class ScoringPlan implements FlatMapFunction<Iterator<InternalRow>, InternalRow> {
    private static final long serialVersionUID = 1L;

    final String weights;
    // The module's options by name; empty: inferred (mode), tanh (nonlinearity), found (prefix).
    final String mode;
    final String nonlinearity;
    final String prefix;
    final String weightsDtype;
    final String device;
    final String inputSchemaJson;
    // Column names; an empty lengthsCol means no lengths column, an empty output column an output not wanted.
    final String inputCol;
    final String lengthsCol;
    final String outputCol;
    final String hiddenCol;
    final String cellCol;
    final int seqLen;
    final int inputSize;
    final int batchSize;
    final boolean failOnBadRow;

    /** The scorer's params as they are now, for rows of {@code inputSchema}. */
    ScoringPlan(ClrnnScorer scorer, StructType inputSchema) {
        weights = scorer.getWeights();
        mode = scorer.getMode().trim();
        nonlinearity = scorer.getNonlinearity().trim();
        prefix = scorer.getPrefix();
        weightsDtype = scorer.getWeightsDtype().trim();
        device = scorer.getDevice().trim();
        inputSchemaJson = inputSchema.json();
        inputCol = scorer.getInputCol();
        lengthsCol = scorer.getLengthsCol();
        outputCol = scorer.getOutputCol();
        hiddenCol = scorer.getHiddenCol();
        cellCol = scorer.getCellCol();
        seqLen = scorer.getSeqLen();
        inputSize = scorer.getInputSize();
        batchSize = scorer.getBatchSize();
        failOnBadRow = scorer.getFailOnBadRow();
    }

    /**
     * The module options these names make, checked as {@link RnnOptions} checks them. Rows always reach the
     * module as one batch-first tensor per group: each row is one (seq, input_size) sequence, so batch_first
     * says nothing about a row.
     */
    RnnOptions options() {
        return RnnOptions.defaults()
                .mode(mode.isEmpty() ? null : CellType.parse(mode))
                .nonlinearity(nonlinearity.isEmpty() ? null : Nonlinearity.parse(nonlinearity))
                .prefix(prefix.isEmpty() ? null : prefix)
                .weightsDtype(WeightsDtype.parse(weightsDtype))
                .batchFirst(true);
    }

    StructType inputSchema() {
        return (StructType) DataType.fromJson(inputSchemaJson);
    }

    @Override
    public Iterator<InternalRow> call(Iterator<InternalRow> rows) {
        return new PartitionScorer(this, rows);
    }
}
