package io.clrnn.onnx;

import io.clrnn.base.Tensor;
import java.util.Arrays;

/**
 * An integer array in C order with its shape: what an ONNX graph keeps in its int64, int32 and bool
 * tensors (shapes, indices, sequence_lens). Values are held as long whatever their ONNX type. The data
 * array is shared, not copied, as {@link Tensor}'s is.
 */
public final class IntTensor {
    private final long[] data;
    private final int[] shape;

    private IntTensor(long[] data, int[] shape) {
        this.data = data;
        this.shape = shape;
    }

    /** Wraps {@code data} with {@code shape}; the element count must match. */
    public static IntTensor of(long[] data, int... shape) {
        long n = Tensor.numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException(
                    "shape " + Tensor.format(shape) + " holds " + n + " elements, data has " + data.length);
        }
        return new IntTensor(data, shape.clone());
    }

    /** A 1-D tensor of {@code values}, e.g. an ONNX node's sequence_lens. */
    public static IntTensor of(int... values) {
        return new IntTensor(Arrays.stream(values).asLongStream().toArray(), new int[] {values.length});
    }

    /** The backing array, in C order (not a copy). */
    public long[] data() {
        return data;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int numel() {
        return data.length;
    }

    @Override
    public String toString() {
        return "IntTensor" + Tensor.format(shape);
    }
}
