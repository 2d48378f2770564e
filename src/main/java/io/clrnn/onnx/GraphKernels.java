package io.clrnn.onnx;

import io.clrnn.Tensor;
import io.clrnn.device.ClKernel;
import io.clrnn.device.ClProgram;
import io.clrnn.device.Device;
import io.clrnn.device.Profile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The device side of a graph's operators (kernels/graph.cl): each method enqueues one or a few launches on
 * the device's in-order queue and returns the result as a new {@link DeviceTensor} from the session's pool,
 * without waiting. Shapes are worked out here on the host; nothing is read back but by {@link #download}.
 */
final class GraphKernels implements AutoCloseable {
    /** unary_op's codes, in graph.cl's order. */
    enum Unary { RELU, TANH, SIGMOID, LEAKY_RELU, ELU, GELU, GELU_TANH, ERF, SOFTPLUS, CLIP, NEG, EXP, LOG, SQRT, ABS,
        RECIPROCAL, POW, SQUARE, AFFINE }

    /** binary_op's codes, in graph.cl's order. */
    enum Binary { ADD, SUB, MUL, DIV, POW, MAX, MIN }

    /** reduce's codes, in graph.cl's order. */
    enum Reduce { SUM, MEAN, MAX, MIN, SUM_SQUARE, ARGMAX, ARGMIN }

    private static final long GROUP = 64;
    private static final int MAX_RANK = 8;

    private final Device device;
    final BufferPool pool;
    private final Map<Kind, ClKernel> kernels = new EnumMap<>(Kind.class);
    /** Host data of uploads in flight, kept alive until the next blocking read. */
    private final List<ByteBuffer> inFlight = new ArrayList<>();
    private Profile profile;

    private enum Kind { UNARY, BINARY, STRIDED_COPY, GATHER, MATMUL, SOFTMAX, REDUCE, LAYER_NORM }

    GraphKernels(Device device) {
        this.device = device;
        this.pool = new BufferPool(device);
    }

    Device device() {
        return device;
    }

    /** Where the next launches record their time; null for none. */
    void profile(Profile value) {
        profile = value;
    }

    private ClKernel kernel(Kind kind) {
        return kernels.computeIfAbsent(kind, k -> {
            ClProgram program = device.program("", "graph.cl");
            return program.kernel(k.name().toLowerCase(java.util.Locale.ROOT));
        });
    }

    private void launch(ClKernel k, long... global) {
        long[] padded = global.clone();
        padded[0] = roundUp(global[0], global.length == 1 ? GROUP : 8);
        device.run(Device.Lane.THROUGHPUT, k, padded, null, profile, Profile.Family.OPERATORS);
    }

    private static long roundUp(long n, long m) {
        return (n + m - 1) / m * m;
    }

    DeviceTensor fresh(int[] shape) {
        return new DeviceTensor(pool.take(Tensor.numel(shape)), 0, shape);
    }

    DeviceTensor upload(Tensor t) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(Math.max(4, t.numel() * 4)).order(ByteOrder.nativeOrder());
        bytes.asFloatBuffer().put(t.data());
        DeviceTensor d = fresh(t.shape());
        device.write(Device.Lane.THROUGHPUT, d.block().buffer, 0, bytes, t.numel() * 4L, profile);
        inFlight.add(bytes);
        return d;
    }

    /** Ints as a block of the pool, held once: gather's indices. */
    private BufferPool.Block uploadInts(int[] values) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(Math.max(4, values.length * 4)).order(ByteOrder.nativeOrder());
        bytes.asIntBuffer().put(values);
        BufferPool.Block b = pool.take(values.length);
        b.hold();
        device.write(Device.Lane.THROUGHPUT, b.buffer, 0, bytes, values.length * 4L, profile);
        inFlight.add(bytes);
        return b;
    }

    /** Reads a tensor back, waiting for everything enqueued before. */
    Tensor download(DeviceTensor d) {
        int n = d.numel();
        ByteBuffer bytes = ByteBuffer.allocateDirect(Math.max(4, n * 4)).order(ByteOrder.nativeOrder());
        if (n > 0) {
            device.read(Device.Lane.THROUGHPUT, d.block().buffer, d.offset() * 4L, bytes, n * 4L, true, profile);
        } else {
            device.finish();
        }
        inFlight.clear();
        float[] data = new float[n];
        bytes.asFloatBuffer().get(data);
        return Tensor.of(data, d.shape());
    }

    DeviceTensor unary(Unary op, DeviceTensor x, float alpha, float beta) {
        DeviceTensor y = fresh(x.shape());
        if (x.numel() > 0) {
            ClKernel k = kernel(Kind.UNARY).arg("n", x.numel()).arg("op", op.ordinal()).arg("alpha", alpha)
                    .arg("beta", beta).arg("X", x.block().buffer).arg("x_off", x.offset()).arg("Y", y.block().buffer)
                    .arg("y_off", 0);
            launch(k, x.numel());
        }
        return y;
    }

    /** C-order strides of {@code shape}, with 0 on axes of size 1 (so they broadcast). */
    static long[] broadcastStrides(int[] shape, int rank) {
        long[] st = new long[rank];
        long acc = 1;
        for (int d = shape.length - 1, o = rank - 1; d >= 0; d--, o--) {
            st[o] = shape[d] == 1 ? 0 : acc;
            acc *= shape[d];
        }
        return st;
    }

    /** ONNX's multidirectional broadcast of two shapes, or null when they do not broadcast. */
    static int[] broadcast(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int d = 0; d < r; d++) {
            int x = d - (r - a.length) >= 0 ? a[d - (r - a.length)] : 1;
            int y = d - (r - b.length) >= 0 ? b[d - (r - b.length)] : 1;
            if (x != y && x != 1 && y != 1) {
                return null;
            }
            out[d] = x == 1 ? y : x;
        }
        return out;
    }

    DeviceTensor binary(Binary op, DeviceTensor a, DeviceTensor b, int[] outShape) {
        DeviceTensor y = fresh(outShape);
        int r = outShape.length;
        int n = y.numel();
        if (n == 0) {
            return y;
        }
        Merged m = merge(outShape, broadcastStrides(a.shape(), r), broadcastStrides(b.shape(), r));
        ClKernel k = kernel(Kind.BINARY).arg("n", n).arg("op", op.ordinal()).arg("rank", m.dims.length)
                .arg8("dims", m.dims).arg8("a_st", m.strides[0]).arg8("b_st", m.strides[1])
                .arg("A", a.block().buffer).arg("a_off", a.offset()).arg("B", b.block().buffer).arg("b_off", b.offset())
                .arg("Y", y.block().buffer).arg("y_off", 0);
        launch(k, n);
        return y;
    }

    /** Dims and per-operand strides with size-1 axes dropped and neighbours that walk alike merged. */
    private record Merged(int[] dims, int[][] strides) {}

    private static Merged merge(int[] dims, long[]... strides) {
        List<long[]> axes = new ArrayList<>(); // {dim, stride of each operand}
        for (int d = 0; d < dims.length; d++) {
            if (dims[d] == 1) {
                continue;
            }
            long[] axis = new long[1 + strides.length];
            axis[0] = dims[d];
            for (int s = 0; s < strides.length; s++) {
                axis[1 + s] = strides[s][d];
            }
            if (!axes.isEmpty()) {
                long[] prev = axes.get(axes.size() - 1);
                boolean joins = true;
                for (int s = 0; s < strides.length; s++) {
                    joins &= prev[1 + s] == axis[1 + s] * axis[0];
                }
                if (joins) {
                    prev[0] *= axis[0];
                    for (int s = 0; s < strides.length; s++) {
                        prev[1 + s] = axis[1 + s];
                    }
                    continue;
                }
            }
            axes.add(axis);
        }
        if (axes.size() > MAX_RANK) {
            throw new IllegalArgumentException("more than " + MAX_RANK + " axes that do not merge: " + Arrays.toString(dims));
        }
        int[] d = new int[axes.size()];
        int[][] st = new int[strides.length][axes.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = Math.toIntExact(axes.get(i)[0]);
            for (int s = 0; s < strides.length; s++) {
                st[s][i] = Math.toIntExact(axes.get(i)[1 + s]);
            }
        }
        return new Merged(d, st);
    }

    /** A new tensor of {@code outShape} whose element at coordinates c is x's at base + c·srcStrides. */
    DeviceTensor affine(DeviceTensor x, int[] outShape, long base, long[] srcStrides) {
        DeviceTensor y = fresh(outShape);
        copyInto(x, base, srcStrides, y, 0, contiguous(outShape), outShape);
        return y;
    }

    /** Copies x's elements (from srcBase through srcStrides) to y (from dstBase through dstStrides) over dims. */
    void copyInto(DeviceTensor x, long srcBase, long[] srcStrides, DeviceTensor y, long dstBase, long[] dstStrides,
            int[] dims) {
        int n = (int) Tensor.numel(dims);
        if (n == 0) {
            return;
        }
        Merged m = merge(dims, srcStrides, dstStrides);
        ClKernel k = kernel(Kind.STRIDED_COPY).arg("n", n).arg("rank", m.dims.length).arg8("dims", m.dims)
                .arg8("src_st", m.strides[0]).arg8("dst_st", m.strides[1]).arg("X", x.block().buffer)
                .arg("src_off", Math.toIntExact(x.offset() + srcBase)).arg("Y", y.block().buffer)
                .arg("dst_off", Math.toIntExact(y.offset() + dstBase));
        launch(k, n);
    }

    static long[] contiguous(int[] shape) {
        long[] st = new long[shape.length];
        long acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            st[d] = acc;
            acc *= shape[d];
        }
        return st;
    }

    /** Y[o, j, i] = X[o, idx[j], i] for (outer, idx.length, inner), indices already checked and non-negative. */
    DeviceTensor gather(DeviceTensor x, int outer, int dim, int inner, int[] idx, int[] outShape) {
        DeviceTensor y = fresh(outShape);
        if (y.numel() == 0) {
            return y;
        }
        BufferPool.Block indices = uploadInts(idx);
        try {
            ClKernel k = kernel(Kind.GATHER).arg("outer", outer).arg("count", idx.length).arg("inner", inner)
                    .arg("dim", dim).arg("X", x.block().buffer).arg("x_off", x.offset()).arg("idx", indices.buffer)
                    .arg("Y", y.block().buffer);
            launch(k, inner, idx.length, outer);
        } finally {
            indices.release(); // reused only by commands enqueued after this launch
        }
        return y;
    }

    /**
     * A batched product Y[b] = alpha·A[b]·B[b] + beta·C, then the activation {@code act} (null for none), with
     * every operand described by its strides in floats: A's row, column and batch strides, B's likewise, C's row
     * and column strides (0 where it broadcasts; C null when absent).
     */
    DeviceTensor matmul(int batch, int m, int n, int kDim, DeviceTensor a, long aM, long aK, long aB,
            DeviceTensor b, long bK, long bN, long bB, DeviceTensor c, long cM, long cN, float alpha, float beta,
            Unary act, float actAlpha, float actBeta, int[] outShape) {
        DeviceTensor y = fresh(outShape);
        if (y.numel() == 0) {
            return y;
        }
        DeviceTensor cc = c == null ? a : c;
        ClKernel k = kernel(Kind.MATMUL).arg("M", m).arg("N", n).arg("K", kDim)
                .arg("A", a.block().buffer).arg("a_off", a.offset()).arg("a_m", i(aM)).arg("a_k", i(aK)).arg("a_b", i(aB))
                .arg("B", b.block().buffer).arg("b_off", b.offset()).arg("b_k", i(bK)).arg("b_n", i(bN)).arg("b_b", i(bB))
                .arg("C", cc.block().buffer).arg("c_off", cc.offset()).arg("c_m", i(cM)).arg("c_n", i(cN))
                .arg("beta", beta).arg("has_c", c == null ? 0 : 1).arg("alpha", alpha)
                .arg("act", act == null ? -1 : act.ordinal()).arg("act_alpha", actAlpha).arg("act_beta", actBeta)
                .arg("Y", y.block().buffer).arg("y_off", 0).arg("y_b", i((long) m * n));
        launch(k, (n + 7) / 8, m, batch);
        return y;
    }

    private static int i(long v) {
        return Math.toIntExact(v);
    }

    DeviceTensor softmax(DeviceTensor x, int outer, int len, int inner, boolean log) {
        DeviceTensor y = fresh(x.shape());
        if (y.numel() == 0) {
            return y;
        }
        ClKernel k = kernel(Kind.SOFTMAX).arg("outer", outer).arg("len", len).arg("inner", inner)
                .arg("take_log", log ? 1 : 0).arg("X", x.block().buffer).arg("x_off", x.offset()).arg("Y", y.block().buffer);
        launch(k, inner, outer);
        return y;
    }

    /** Reduces the middle axis of (outer, len, inner) into a tensor of {@code outShape}. */
    DeviceTensor reduce(DeviceTensor x, int outer, int len, int inner, Reduce op, boolean last, int[] outShape) {
        DeviceTensor y = fresh(outShape);
        if (y.numel() == 0) {
            return y;
        }
        ClKernel k = kernel(Kind.REDUCE).arg("outer", outer).arg("len", len).arg("inner", inner)
                .arg("op", op.ordinal()).arg("last", last ? 1 : 0).arg("X", x.block().buffer).arg("x_off", x.offset())
                .arg("Y", y.block().buffer);
        launch(k, inner, outer);
        return y;
    }

    /** Layer normalisation of each row of {@code width}; scale and bias of {@code width} floats, or of one. */
    DeviceTensor layerNorm(DeviceTensor x, int rows, int width, float eps, DeviceTensor scale, DeviceTensor bias) {
        DeviceTensor y = fresh(x.shape());
        if (y.numel() == 0) {
            return y;
        }
        DeviceTensor bb = bias == null ? scale : bias;
        ClKernel k = kernel(Kind.LAYER_NORM).arg("rows", rows).arg("width", width).arg("eps", eps)
                .arg("X", x.block().buffer).arg("x_off", x.offset()).arg("S", scale.block().buffer)
                .arg("s_off", scale.offset()).arg("s_st", scale.numel() == 1 ? 0 : 1).arg("Bi", bb.block().buffer)
                .arg("b_off", bb.offset()).arg("b_st", bb.numel() == 1 ? 0 : 1).arg("has_bias", bias == null ? 0 : 1)
                .arg("Y", y.block().buffer);
        launch(k, rows);
        return y;
    }

    @Override
    public void close() {
        kernels.values().forEach(ClKernel::close);
        kernels.clear();
        pool.close();
    }
}
