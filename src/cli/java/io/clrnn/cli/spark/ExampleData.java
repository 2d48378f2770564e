package io.clrnn.cli.spark;

import io.clrnn.base.Tensor;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Sequences made from their row id alone, so that Spark's tasks and a plain loop on the driver make the same ones:
 * {@code id} (bigint), {@code sequence} (array<float>, seq*input_size standard normal values) and {@code len}
 * (1..seq, or null for the whole sequence). With {@code withGaps}, one row in 10,007 has a null sequence.
 */
record ExampleData(int seqLen, int inputSize, boolean ragged, boolean withGaps) implements java.io.Serializable {
    static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("sequence", DataTypes.createArrayType(DataTypes.FloatType, false), true)
            .add("len", DataTypes.IntegerType, true);

    float[] sequence(long id) {
        return Tensor.randn(0x5eed0000L + id, seqLen * inputSize).data();
    }

    /** The row's length: all of it, or (ragged) 1..seqLen, from the id. */
    Integer length(long id) {
        if (!ragged) {
            return null;
        }
        long mixed = (id + 1) * 0x9E3779B97F4A7C15L;
        return 1 + (int) Long.remainderUnsigned(mixed >>> 17, seqLen);
    }

    boolean isGap(long id) {
        return withGaps && id % 10_007 == 5;
    }

    /** {@code rows} rows in {@code partitions} partitions, in id order. */
    Dataset<Row> rows(SparkSession spark, long rows, int partitions) {
        return spark.range(0, rows, 1, partitions).map((MapFunction<Long, Row>) id -> RowFactory.create(id,
                isGap(id) ? null : sequence(id), length(id)), Encoders.row(SCHEMA));
    }
}
