package io.clrnn.onnx;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;

/**
 * A value flowing through an ONNX graph: floating-point data as a {@link Tensor} (float32 whatever the
 * ONNX type), integer and bool data as an {@link IntTensor}. The glue operators work on both alike.
 */
sealed interface Value permits Value.Floats, Value.Ints, Value.OnDevice {
    /** The largest tensor a graph may make from a shape (ConstantOfShape, Expand): 2^28 elements, 1 GiB of float. */
    long MAX_MADE_ELEMENTS = 1L << 28;

    int[] shape();

    int numel();

    /** A value of the same kind with {@code count} elements, the i-th copied from element {@code from[i]}. */
    Value gather(int[] from, int[] shape);

    /** The same data under another shape of the same size. */
    Value reshape(int[] shape);

    /** "float" or "int", for messages. */
    String kind();

    /**
     * A value of the same kind and of {@code outShape} whose element at coordinates c is this one's at
     * {@code base + c·srcStrides}: what Transpose, Slice and Expand make.
     */
    default Value affine(int[] outShape, long base, long[] srcStrides, String what) {
        return gather(affineMap(outShape, base, srcStrides, what), outShape);
    }

    /** A float tensor on the device; its glue runs there too, and it is read back only when a host needs it. */
    record OnDevice(DeviceTensor tensor, GraphKernels kernels) implements Value {
        @Override
        public int[] shape() {
            return tensor.shape();
        }

        @Override
        public int numel() {
            return tensor.numel();
        }

        @Override
        public Value gather(int[] from, int[] shape) {
            return new OnDevice(kernels.gather(tensor, 1, Math.max(1, tensor.numel()), 1, from, shape), kernels);
        }

        @Override
        public Value affine(int[] outShape, long base, long[] srcStrides, String what) {
            checkedNumel(outShape, what);
            if (base == 0 && Tensor.numel(outShape) == tensor.numel() && inOrder(outShape, srcStrides)) {
                // every element stays where it is (a Transpose that moves only axes of size 1, say): a view
                return new OnDevice(tensor.reshape(outShape), kernels);
            }
            return new OnDevice(kernels.affine(tensor, outShape, base, srcStrides), kernels);
        }

        /** Whether reading through {@code strides} visits the elements in their own order. */
        private static boolean inOrder(int[] shape, long[] strides) {
            long[] contiguous = GraphKernels.contiguous(shape);
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] > 1 && strides[i] != contiguous[i]) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public Value reshape(int[] shape) {
            return new OnDevice(tensor.reshape(shape), kernels);
        }

        @Override
        public String kind() {
            return "float";
        }
    }

    /** {@code v} with its data on the host: a device tensor read back, anything else as it is. */
    static Value onHost(Value v) {
        return v instanceof OnDevice d ? new Floats(d.kernels().download(d.tensor())) : v;
    }

    /** Source index of every element of {@code outShape}: base plus coordinate times stride, per axis. */
    static int[] affineMap(int[] outShape, long base, long[] srcStrides, String what) {
        int n = checkedNumel(outShape, what);
        int[] from = new int[n];
        int rank = outShape.length;
        int[] c = new int[rank];
        long off = base;
        for (int i = 0; i < n; i++) {
            from[i] = (int) off;
            for (int d = rank - 1; d >= 0; d--) {
                c[d]++;
                off += srcStrides[d];
                if (c[d] < outShape[d]) {
                    break;
                }
                off -= srcStrides[d] * c[d];
                c[d] = 0;
            }
        }
        return from;
    }

    record Floats(Tensor tensor) implements Value {
        @Override
        public int[] shape() {
            return tensor.shape();
        }

        @Override
        public int numel() {
            return tensor.numel();
        }

        @Override
        public Value gather(int[] from, int[] shape) {
            float[] src = tensor.data();
            float[] dst = new float[from.length];
            for (int i = 0; i < from.length; i++) {
                dst[i] = src[from[i]];
            }
            return new Floats(Tensor.of(dst, shape));
        }

        @Override
        public Value reshape(int[] shape) {
            return new Floats(tensor.reshape(shape));
        }

        @Override
        public String kind() {
            return "float";
        }
    }

    record Ints(IntTensor tensor) implements Value {
        @Override
        public int[] shape() {
            return tensor.shape();
        }

        @Override
        public int numel() {
            return tensor.numel();
        }

        @Override
        public Value gather(int[] from, int[] shape) {
            long[] src = tensor.data();
            long[] dst = new long[from.length];
            for (int i = 0; i < from.length; i++) {
                dst[i] = src[from[i]];
            }
            return new Ints(IntTensor.of(dst, shape));
        }

        @Override
        public Value reshape(int[] shape) {
            return new Ints(IntTensor.of(tensor.data(), shape));
        }

        @Override
        public String kind() {
            return "int";
        }
    }

    static Value of(Tensor t) {
        return new Floats(t);
    }

    static Value of(IntTensor t) {
        return new Ints(t);
    }

    /** {@code v} as float32: a float value's own tensor, an integer one's converted element by element. */
    static Tensor toFloats(Value v) {
        if (v instanceof Floats f) {
            return f.tensor();
        }
        if (v instanceof OnDevice d) {
            return d.kernels().download(d.tensor());
        }
        long[] src = ((Ints) v).tensor().data();
        float[] dst = new float[src.length];
        for (int i = 0; i < src.length; i++) {
            dst[i] = src[i];
        }
        return Tensor.of(dst, v.shape());
    }

    /** Checks that a tensor of {@code shape} may be made: its size fits an array and {@link #MAX_MADE_ELEMENTS}. */
    static int checkedNumel(int[] shape, String what) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new InvalidInputException(what + ": negative dimension in shape " + Tensor.format(shape));
            }
        }
        if (java.util.Arrays.stream(shape).anyMatch(d -> d == 0)) {
            return 0; // empty, however large the other dimensions
        }
        for (int d : shape) {
            n *= d;
            if (n > MAX_MADE_ELEMENTS) {
                throw new InvalidInputException(what + ": shape " + Tensor.format(shape) + " has more than 2^28 "
                        + "elements, more than clrnn makes in a graph's glue");
            }
        }
        return (int) n;
    }
}
