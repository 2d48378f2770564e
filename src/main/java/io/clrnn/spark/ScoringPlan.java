package io.clrnn.spark;

import io.clrnn.Nonlinearity;
import io.clrnn.RnnOptions;
import io.clrnn.WeightsDtype;
import io.clrnn.model.CellType;
import java.util.Iterator;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * What a {@link ClrnnScorer} sends to its tasks: strings and numbers only (the weights path, the options as
 * their names, the device spec, the column names and the input schema as JSON). Each task turns it into a
 * {@link PartitionScorer} over the module its executor keeps; no device or module ever travels.
 *
 * @param mode         rnn_tanh, rnn_relu, lstm, gru; empty: inferred from the weights
 * @param nonlinearity tanh or relu for an RNN; empty: tanh
 * @param prefix       the module's key prefix in the file; empty: found
 * @param seqLen       every row's sequence length; 0: each row's own
 * @param inputSize    the values per step of a flat input; 0: the module's input_size
 * @param lengthsCol   empty: no lengths column; likewise outputCol, hiddenCol and cellCol for outputs not wanted
 */
record ScoringPlan(String weights, String mode, String nonlinearity, String prefix, String weightsDtype,
        String device, String inputSchemaJson, String inputCol, String lengthsCol, String outputCol,
        String hiddenCol, String cellCol, int seqLen, int inputSize, int batchSize, boolean failOnBadRow)
        implements FlatMapFunction<Iterator<InternalRow>, InternalRow> {

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
