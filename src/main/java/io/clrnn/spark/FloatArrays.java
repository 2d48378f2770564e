package io.clrnn.spark;

import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.unsafe.Platform;

/**
 * A reusable Spark array of floats, filled from a slice of a forward's output: one copy into a buffer that stays
 * warm, instead of a new array per row (allocating and zeroing a row's output sequence cost as much as the
 * copies). Valid until the next fill, which suits an UnsafeProjection: it copies the array into the row it makes.
 */
final class FloatArrays {
    private long[] buffer = new long[0];
    private final UnsafeArrayData view = new UnsafeArrayData();

    /** {@code length} floats of {@code src} from {@code from}. */
    UnsafeArrayData of(float[] src, int from, int length) {
        long values = start(length);
        Platform.copyMemory(src, Platform.FLOAT_ARRAY_OFFSET + 4L * from, buffer, values, 4L * length);
        return view;
    }

    /** Sequence {@code j}'s slices of a state shaped (slices, batch, width), one after another. */
    UnsafeArrayData ofSlices(float[] state, int slices, int batch, int width, int j) {
        long values = start(slices * width);
        for (int s = 0; s < slices; s++) {
            Platform.copyMemory(state, Platform.FLOAT_ARRAY_OFFSET + 4L * ((long) s * batch + j) * width, buffer,
                    values + 4L * s * width, 4L * width);
        }
        return view;
    }

    /** Lays out the header of an array of {@code n} floats with no nulls; returns where the values go. */
    private long start(int n) {
        long header = UnsafeArrayData.calculateHeaderPortionInBytes(n);
        int words = (int) ((header + 4L * n + 7) / 8);
        if (buffer.length < words) {
            buffer = new long[words];
        }
        buffer[0] = n;                                  // the element count, then the null bits: none
        for (int w = 1; w < header / 8; w++) {
            buffer[w] = 0;
        }
        buffer[words - 1] = 0;                          // the padding after an odd count of floats
        view.pointTo(buffer, Platform.LONG_ARRAY_OFFSET, words * 8);
        return Platform.LONG_ARRAY_OFFSET + header;
    }
}
