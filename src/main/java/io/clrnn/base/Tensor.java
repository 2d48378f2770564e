package io.clrnn.base;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * A dense float32 array in C (row-major) order with its shape. The data array is shared, not
 * copied: callers that hand one in must not change it while clrnn uses it.
 */
public final class Tensor {
    private final float[] data;
    private final int[] shape;

    private Tensor(float[] data, int[] shape) {
        this.data = data;
        this.shape = shape;
    }

    /** Wraps {@code data} with {@code shape}; the element count must match. */
    public static Tensor of(float[] data, int... shape) {
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException(
                    "shape " + format(shape) + " holds " + n + " elements, data has " + data.length);
        }
        return new Tensor(data, shape.clone());
    }

    public static Tensor zeros(int... shape) {
        long n = numel(shape);
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shape " + format(shape) + " is too large for one array");
        }
        return new Tensor(new float[(int) n], shape.clone());
    }

    /**
     * Standard normal samples, like {@code torch.randn}, from {@code seed} (the same seed gives the same
     * tensor). Box-Muller over SplittableRandom, which has no nextGaussian on Java 17.
     */
    public static Tensor randn(long seed, int... shape) {
        SplittableRandom random = new SplittableRandom(seed);
        Tensor t = zeros(shape);
        for (int i = 0; i < t.data.length; i++) {
            double u = 1.0 - random.nextDouble();
            t.data[i] = (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble()));
        }
        return t;
    }

    /** Number of elements a shape holds; throws on a negative dimension. */
    public static long numel(int... shape) {
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + format(shape));
            }
            if (d == 0) {
                return 0; // whatever the other dimensions, as numpy counts (65536, 65536, 65536, 0)
            }
        }
        long n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** PyTorch's way of printing a shape: {@code [5, 4, 64]}. */
    public static String format(int... shape) {
        return Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining(", ", "[", "]"));
    }

    /** The backing array, in C order (not a copy). */
    public float[] data() {
        return data;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int size(int dim) {
        return shape[dim < 0 ? shape.length + dim : dim];
    }

    public int numel() {
        return data.length;
    }

    public Tensor reshape(int... newShape) {
        return of(data, newShape);
    }

    @Override
    public String toString() {
        return "Tensor" + format(shape);
    }
}
