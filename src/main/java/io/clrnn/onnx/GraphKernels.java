package io.clrnn.onnx;

import io.clrnn.base.Tensor;
import io.clrnn.device.ClKernel;
import io.clrnn.device.Device;
import io.clrnn.device.KernelCache;
import io.clrnn.device.KernelConstants;
import io.clrnn.device.Profile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The device side of a graph's operators (kernels/graph.cl): each method enqueues one or a few launches on
 * the device's in-order queue and returns the result as a new {@link DeviceTensor} from the session's pool,
 * without waiting. Shapes are worked out here on the host; nothing is read back but by {@link #download}.
 */
final class GraphKernels implements AutoCloseable {
    /** unary_op's operators; each one's code is graph.cl's U_&lt;name&gt;. */
    enum Unary {
        RELU, TANH, SIGMOID, LEAKY_RELU, ELU, GELU, GELU_TANH, ERF, SOFTPLUS, CLIP, NEG, EXP, LOG, SQRT, ABS,
        RECIPROCAL, POW, SQUARE, AFFINE;

        final int code = KernelConstants.code("graph.cl", "U_" + name());
    }

    /** binary_op's operators; each one's code is graph.cl's B_&lt;name&gt;. */
    enum Binary {
        ADD, SUB, MUL, DIV, POW, MAX, MIN;

        final int code = KernelConstants.code("graph.cl", "B_" + name());
    }

    /** reduce's operators; each one's code is graph.cl's R_&lt;name&gt;. */
    enum Reduce {
        SUM, MEAN, MAX, MIN, SUM_SQUARE, ARGMAX, ARGMIN;

        final int code = KernelConstants.code("graph.cl", "R_" + name());
    }

    private static final long GROUP = 64;
    private static final int MAX_RANK = 8;
    /** The rows and columns of Y one work-item of graph.cl's dense makes. */
    private static final int DENSE_ROWS = KernelConstants.code("graph.cl", "DENSE_ROWS");
    private static final int DENSE_COLS = KernelConstants.code("graph.cl", "DENSE_COLS");

    private final Device device;
    final BufferPool pool;
    /**
     * Kernel objects by kind and the node that launches them (with the launch's place within the node): a node
     * run again sets only the arguments that changed, which in a steady stream of runs is almost none.
     */
    private final KernelCache kernels = new KernelCache();
    private Object owner;
    private int launchInOwner;

    /** Which launch of its node a kernel object serves. */
    private record Launch(Object node, int index) {}
    /**
     * Direct buffers for uploads: those in flight stay untouched until the next blocking read, then all are free
     * again; kept across runs, so that a steady stream of runs allocates nothing.
     */
    private final List<ByteBuffer> staging = new ArrayList<>();
    private int stagingInUse;
    private ByteBuffer downloads = ByteBuffer.allocateDirect(0);
    private Profile profile;

    private enum Kind { UNARY, BINARY3, BINARY, COPY3, COPY4, STRIDED_COPY, GATHER, MATMUL, DENSE, SOFTMAX, REDUCE, LAYER_NORM }

    /**
     * Work (elements, or multiply-adds) below which a launch takes the device's in-thread latency lane, when it
     * has one: a command there costs no worker wake-up, which is most of a small operator's time.
     */
    static final long LATENCY_WORK = 1L << 16;
    /** The lane of the last command enqueued; a command on the other lane waits for this one's to finish. */
    private Device.Lane lane = Device.Lane.THROUGHPUT;

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

    /** Launches from now on belong to {@code node} (null: to none in particular). */
    void owner(Object node) {
        owner = node;
        launchInOwner = 0;
    }

    private ClKernel kernel(Kind kind) {
        String name = kind.name().toLowerCase(java.util.Locale.ROOT);
        return kernels.get(new KernelCache.Key("graph.cl", name, new Launch(owner, launchInOwner++)),
                () -> device.program("", "graph.cl").kernel(name));
    }

    /** Enqueues {@code k} over {@code global} (padded), on the lane its {@code work} calls for. */
    private void launch(ClKernel k, long work, long... global) {
        long l0 = 1;
        long limit = Math.min(GROUP, device.maxWorkGroupSize(k));
        while (l0 * 2 <= limit && l0 < global[0]) {
            l0 *= 2;
        }
        long[] padded = global.clone();
        padded[0] = roundUp(global[0], l0);
        long[] local = new long[global.length];
        java.util.Arrays.fill(local, 1);
        local[0] = l0;
        device.run(enter(work), k, padded, local, profile, OnnxSession.OPERATORS);
    }

    /** The lane for a command of this much work, the other lane's commands finished first when it changes. */
    private Device.Lane enter(long work) {
        return enter(device.hasLatencyLane() && work < LATENCY_WORK ? Device.Lane.LATENCY : Device.Lane.THROUGHPUT);
    }

    Device.Lane enter(Device.Lane next) {
        if (next != lane) {
            device.finish(lane);
            lane = next;
        }
        return next;
    }

    private static long roundUp(long n, long m) {
        return (n + m - 1) / m * m;
    }

    DeviceTensor fresh(int[] shape) {
        long bytes = Tensor.numel(shape) * 4;
        if (bytes > device.info().maxAllocBytes()) {
            throw new io.clrnn.base.InvalidInputException("a tensor of shape " + Tensor.format(shape) + " needs "
                    + bytes / 1048576 + " MiB, more than " + device.info().name() + " allocates at once ("
                    + device.info().maxAllocBytes() / 1048576 + " MiB)");
        }
        return new DeviceTensor(pool.take(Tensor.numel(shape)), 0, shape);
    }

    /** A staging buffer of at least {@code bytes}, in flight until the next blocking read. */
    private ByteBuffer stage(int bytes) {
        int want = Math.max(4, bytes);
        for (int i = stagingInUse; i < staging.size(); i++) {
            if (staging.get(i).capacity() >= want) {
                java.util.Collections.swap(staging, i, stagingInUse);
                return staging.get(stagingInUse++).clear();
            }
        }
        ByteBuffer b = ByteBuffer.allocateDirect(Math.max(want, 4096)).order(ByteOrder.nativeOrder());
        staging.add(b);
        java.util.Collections.swap(staging, staging.size() - 1, stagingInUse);
        stagingInUse++;
        return b;
    }

    DeviceTensor upload(Tensor t) {
        ByteBuffer bytes = stage(t.numel() * 4);
        bytes.asFloatBuffer().put(t.data(), 0, t.numel());
        DeviceTensor d = fresh(t.shape());
        device.write(enter(t.numel()), d.block().buffer, 0, bytes, t.numel() * 4L, profile);
        return d;
    }

    /** Ints as a block of the pool, held once: gather's indices. */
    private BufferPool.Block uploadInts(int[] values) {
        ByteBuffer bytes = stage(values.length * 4);
        bytes.asIntBuffer().put(values);
        BufferPool.Block b = pool.take(values.length);
        b.hold();
        device.write(enter(values.length), b.buffer, 0, bytes, values.length * 4L, profile);
        return b;
    }

    /** Reads a tensor back, waiting for everything enqueued before. */
    Tensor download(DeviceTensor d) {
        int n = d.numel();
        if (downloads.capacity() < n * 4L) {
            downloads = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        }
        ByteBuffer bytes = downloads.clear();
        device.finish(lane == Device.Lane.THROUGHPUT ? Device.Lane.LATENCY : Device.Lane.THROUGHPUT);
        if (n > 0) {
            device.read(lane, d.block().buffer, d.offset() * 4L, bytes, n * 4L, true, profile);
        } else {
            device.finish(lane);
        }
        stagingInUse = 0; // every upload before this read is done: both lanes have finished
        float[] data = new float[n];
        bytes.asFloatBuffer().get(data);
        return Tensor.of(data, d.shape());
    }

    DeviceTensor unary(Unary op, DeviceTensor x, float alpha, float beta) {
        DeviceTensor y = fresh(x.shape());
        if (x.numel() > 0) {
            ClKernel k = kernel(Kind.UNARY).arg("n", x.numel()).arg("op", op.code).arg("alpha", alpha)
                    .arg("beta", beta).arg("X", x.block().buffer).arg("x_off", x.offset()).arg("Y", y.block().buffer)
                    .arg("y_off", 0);
            launch(k, x.numel(), x.numel());
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
        if (m.dims.length <= 3) {
            int[] d = pad3(m.dims, 1);
            int[] sa = pad3(m.strides[0], 0);
            int[] sb = pad3(m.strides[1], 0);
            ClKernel k = kernel(Kind.BINARY3).arg("d0", d[0]).arg("d1", d[1]).arg("d2", d[2]).arg("op", op.code)
                    .arg("A", a.block().buffer).arg("a_off", a.offset()).arg("a0", sa[0]).arg("a1", sa[1])
                    .arg("a2", sa[2]).arg("B", b.block().buffer).arg("b_off", b.offset()).arg("b0", sb[0])
                    .arg("b1", sb[1]).arg("b2", sb[2]).arg("Y", y.block().buffer).arg("y_off", 0);
            launch(k, n, d[0], d[1], d[2]);
            return y;
        }
        ClKernel k = kernel(Kind.BINARY).arg("n", n).arg("op", op.code).arg("rank", m.dims.length)
                .arg8("dims", m.dims).arg8("a_st", m.strides[0]).arg8("b_st", m.strides[1])
                .arg("A", a.block().buffer).arg("a_off", a.offset()).arg("B", b.block().buffer).arg("b_off", b.offset())
                .arg("Y", y.block().buffer).arg("y_off", 0);
        launch(k, n, n);
        return y;
    }

    /** The first three of {@code v} (innermost first), {@code fill} where it has fewer. */
    private static int[] pad3(int[] v, int fill) {
        int[] out = {fill, fill, fill};
        System.arraycopy(v, 0, out, 0, v.length);
        return out;
    }

    /**
     * Dims and per-operand strides with size-1 axes dropped and neighbours that walk alike merged, innermost
     * axis first (as the kernels take them).
     */
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
            long[] axis = axes.get(d.length - 1 - i);
            d[i] = Math.toIntExact(axis[0]);
            for (int s = 0; s < strides.length; s++) {
                st[s][i] = Math.toIntExact(axis[1 + s]);
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
        int src = Math.toIntExact(x.offset() + srcBase);
        int dst = Math.toIntExact(y.offset() + dstBase);
        if (m.dims.length <= 3) {
            int[] d = pad3(m.dims, 1);
            int[] sx = pad3(m.strides[0], 0);
            int[] sy = pad3(m.strides[1], 0);
            ClKernel k = kernel(Kind.COPY3).arg("d0", d[0]).arg("d1", d[1]).arg("d2", d[2])
                    .arg("X", x.block().buffer).arg("src_off", src).arg("x0", sx[0]).arg("x1", sx[1]).arg("x2", sx[2])
                    .arg("Y", y.block().buffer).arg("dst_off", dst).arg("y0", sy[0]).arg("y1", sy[1]).arg("y2", sy[2]);
            launch(k, n, d[0], d[1], d[2]);
            return;
        }
        if (m.dims.length == 4) {
            int[] d = m.dims;
            int[] sx = m.strides[0];
            int[] sy = m.strides[1];
            ClKernel k = kernel(Kind.COPY4).arg("d0", d[0]).arg("d1", d[1]).arg("d2", d[2]).arg("d3", d[3])
                    .arg("X", x.block().buffer).arg("src_off", src).arg("x0", sx[0]).arg("x1", sx[1]).arg("x2", sx[2])
                    .arg("x3", sx[3]).arg("Y", y.block().buffer).arg("dst_off", dst).arg("y0", sy[0])
                    .arg("y1", sy[1]).arg("y2", sy[2]).arg("y3", sy[3]);
            launch(k, n, d[1], d[2], d[3]);
            return;
        }
        ClKernel k = kernel(Kind.STRIDED_COPY).arg("n", n).arg("rank", m.dims.length).arg8("dims", m.dims)
                .arg8("src_st", m.strides[0]).arg8("dst_st", m.strides[1]).arg("X", x.block().buffer)
                .arg("src_off", src).arg("Y", y.block().buffer).arg("dst_off", dst);
        launch(k, n, n);
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
            launch(k, (long) outer * idx.length * inner, idx.length, outer);
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
                .arg("act", act == null ? -1 : act.code).arg("act_alpha", actAlpha).arg("act_beta", actBeta)
                .arg("Y", y.block().buffer).arg("y_off", 0).arg("y_b", i((long) m * n));
        launch(k, (long) batch * m * n * kDim, (n + 7) / 8, m, batch);
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
        launch(k, (long) outer * len * inner, inner, outer);
        return y;
    }

    /** Reduces the middle axis of (outer, len, inner) into a tensor of {@code outShape}. */
    DeviceTensor reduce(DeviceTensor x, int outer, int len, int inner, Reduce op, boolean last, int[] outShape) {
        DeviceTensor y = fresh(outShape);
        if (y.numel() == 0) {
            return y;
        }
        ClKernel k = kernel(Kind.REDUCE).arg("outer", outer).arg("len", len).arg("inner", inner)
                .arg("op", op.code).arg("last", last ? 1 : 0).arg("X", x.block().buffer).arg("x_off", x.offset())
                .arg("Y", y.block().buffer);
        launch(k, (long) outer * len * inner, inner, outer);
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
        launch(k, (long) rows * width, rows);
        return y;
    }

    /**
     * A dense layer's weight packed for {@link #dense}: B (K, N), or (N, K) when {@code transposed}, as a (K, ldw)
     * row-major tensor with ldw = N rounded up to DENSE_COLS, zeros in the padding; a bias of N likewise padded.
     */
    DeviceTensor packDense(Tensor b, boolean transposed, Tensor bias) {
        int k = transposed ? b.size(1) : b.size(0);
        int n = transposed ? b.size(0) : b.size(1);
        int ldw = (int) roundUp(n, DENSE_COLS);
        float[] packed = new float[Math.multiplyExact(k + 1, ldw)]; // the bias row last
        float[] src = b.data();
        for (int r = 0; r < k; r++) {
            for (int c = 0; c < n; c++) {
                packed[r * ldw + c] = transposed ? src[c * k + r] : src[r * n + c];
            }
        }
        if (bias != null) {
            System.arraycopy(bias.data(), 0, packed, k * ldw, n);
        }
        DeviceTensor d = upload(Tensor.of(packed, k + 1, ldw));
        d.block().pin();
        return d;
    }

    /** Y (M, N) = A (M, K) · W + bias, then {@code act}; W from {@link #packDense}, its bias row used when asked. */
    DeviceTensor dense(DeviceTensor a, int m, int n, int kDim, DeviceTensor w, boolean bias, Unary act,
            float actAlpha, float actBeta, int[] outShape) {
        DeviceTensor y = fresh(outShape);
        if (y.numel() == 0) {
            return y;
        }
        int ldw = w.shape()[1];
        ClKernel k = kernel(Kind.DENSE).arg("M", m).arg("N", n).arg("K", kDim).arg("A", a.block().buffer)
                .arg("a_off", a.offset()).arg("lda", kDim).arg("W", w.block().buffer).arg("w_off", w.offset())
                .arg("ldw", ldw).arg("bias", w.block().buffer).arg("b_off", w.offset() + kDim * ldw)
                .arg("has_bias", bias ? 1 : 0)
                .arg("act", act == null ? -1 : act.code).arg("act_alpha", actAlpha).arg("act_beta", actBeta)
                .arg("Y", y.block().buffer).arg("y_off", 0);
        launch(k, (long) m * n * kDim, (n + DENSE_COLS - 1) / DENSE_COLS, (m + DENSE_ROWS - 1) / DENSE_ROWS);
        return y;
    }

    /** Waits for both lanes: every command of the run is done, every staging buffer free again. */
    void settle() {
        device.finish();
        stagingInUse = 0;
    }

    @Override
    public void close() {
        kernels.close();
        pool.close();
    }
}
