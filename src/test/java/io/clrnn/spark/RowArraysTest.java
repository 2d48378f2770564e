package io.clrnn.spark;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

/** The null scan over Spark's arrays, a word of null bits at a time, at every position around word edges. */
class RowArraysTest {
    static final UnsafeProjection TO_UNSAFE = UnsafeProjection.create(
            new DataType[] {DataTypes.createArrayType(DataTypes.FloatType, true)});

    @Test
    void findsANullAtAnyPositionAndNoneWhereThereIsNone() {
        for (int n : new int[] {1, 63, 64, 65, 128, 200}) {
            assertFalse(PartitionScorer.anyNull(UnsafeArrayData.fromPrimitiveArray(new float[n])), "n " + n);
            for (int at = 0; at < n; at++) {
                Object[] values = new Object[n];
                Arrays.fill(values, 1f);
                values[at] = null;
                GenericArrayData generic = new GenericArrayData(values);
                ArrayData unsafe = TO_UNSAFE.apply(new GenericInternalRow(new Object[] {generic})).getArray(0);
                assertTrue(unsafe instanceof UnsafeArrayData);
                assertTrue(PartitionScorer.anyNull(unsafe), "n " + n + ", null at " + at);
                assertTrue(PartitionScorer.anyNull(generic), "generic, n " + n + ", null at " + at);
            }
        }
    }
}
