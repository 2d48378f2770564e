package io.clrnn.spark;

import io.clrnn.base.InvalidInputException;
import java.util.Arrays;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Where a scorer's columns are and what they hold, checked against a Dataset's schema: the input column is
 * {@code array<float>} (a flat (seq, input_size) sequence, T*I values) or {@code array<array<float>>} (T steps of
 * I values), float or double; the lengths column an int or long. The output schema is the input's columns, then
 * the wanted outputs: {@code output} in the input's layout (flat T*D*H_out values, or T steps of D*H_out),
 * {@code h_n} and {@code c_n} flat, (layers*D, H) in C order.
 *
 * @param elementsMayBeNull   the input's values may be null (Parquet arrays usually say so)
 * @param stepsMayBeNull      a nested input's steps may be null
 * @param lengthsOrdinal      -1 without a lengths column
 */
record Layout(int inputOrdinal, boolean nested, boolean doubles, boolean elementsMayBeNull,
        boolean stepsMayBeNull, int lengthsOrdinal, boolean lengthsLong, boolean output, boolean hidden,
        boolean cell, StructType outputSchema) {

    static final ArrayType FLOATS = DataTypes.createArrayType(DataTypes.FloatType, false);

    /** The number of columns the scorer adds. */
    int added() {
        return (output ? 1 : 0) + (hidden ? 1 : 0) + (cell ? 1 : 0);
    }

    static Layout of(StructType schema, ScoringPlan plan) {
        int in = ordinal(schema, plan.inputCol, "inputCol");
        DataType type = schema.fields()[in].dataType();
        boolean nested = false;
        boolean stepsMayBeNull = false;
        ArrayType values = null;
        if (type instanceof ArrayType outer) {
            if (outer.elementType() instanceof ArrayType inner) {
                nested = true;
                stepsMayBeNull = outer.containsNull();
                values = inner;
            } else {
                values = outer;
            }
        }
        if (values == null || !(values.elementType() == DataTypes.FloatType
                || values.elementType() == DataTypes.DoubleType)) {
            throw new InvalidInputException("inputCol '" + plan.inputCol + "' is " + type.simpleString()
                    + "; ClrnnScorer reads array<float> (seq*input_size values, with seqLen or inputSize) or "
                    + "array<array<float>> (seq steps of input_size values), float or double");
        }
        int lengths = -1;
        boolean lengthsLong = false;
        if (!plan.lengthsCol.isEmpty()) {
            lengths = ordinal(schema, plan.lengthsCol, "lengthsCol");
            DataType t = schema.fields()[lengths].dataType();
            if (t != DataTypes.IntegerType && t != DataTypes.LongType) {
                throw new InvalidInputException("lengthsCol '" + plan.lengthsCol + "' is " + t.simpleString()
                        + "; lengths are int or bigint");
            }
            lengthsLong = t == DataTypes.LongType;
        }
        StructType out = schema;
        if (!plan.outputCol.isEmpty()) {
            out = add(out, plan.outputCol, nested ? DataTypes.createArrayType(FLOATS, false) : FLOATS);
        }
        if (!plan.hiddenCol.isEmpty()) {
            out = add(out, plan.hiddenCol, FLOATS);
        }
        if (!plan.cellCol.isEmpty()) {
            out = add(out, plan.cellCol, FLOATS);
        }
        if (out == schema) {
            throw new InvalidInputException("outputCol, hiddenCol and cellCol are all empty: nothing to score");
        }
        return new Layout(in, nested, values.elementType() == DataTypes.DoubleType, values.containsNull(),
                stepsMayBeNull, lengths, lengthsLong, !plan.outputCol.isEmpty(), !plan.hiddenCol.isEmpty(),
                !plan.cellCol.isEmpty(), out);
    }

    private static int ordinal(StructType schema, String name, String param) {
        String[] names = schema.fieldNames();
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        throw new InvalidInputException(param + " '" + name + "' is not a column; the columns are "
                + Arrays.toString(names));
    }

    private static StructType add(StructType schema, String name, DataType type) {
        if (Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new InvalidInputException("output column '" + name + "' already exists; choose another name");
        }
        return schema.add(new StructField(name, type, true, org.apache.spark.sql.types.Metadata.empty()));
    }
}
