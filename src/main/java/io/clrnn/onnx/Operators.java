package io.clrnn.onnx;

import io.clrnn.base.Tensor;
import io.clrnn.format.FormatException;
import io.clrnn.onnx.GraphKernels.Binary;
import io.clrnn.onnx.GraphKernels.Reduce;
import io.clrnn.onnx.GraphKernels.Unary;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.function.LongBinaryOperator;

/**
 * The operators of the network around the recurrent core (torch.onnx.export's heads, embeddings,
 * normalisations and activations, opsets 7 to 22), with ONNX's semantics: float data runs on the device
 * ({@link GraphKernels}); integer data (shape arithmetic, token ids, masks) stays on the host.
 */
final class Operators {
    private static final Set<String> NONE = Set.of();
    private static final Set<String> REDUCE = Set.of("axes", "keepdims", "noop_with_empty_axes");

    /** Each operator with the attributes it may carry. */
    static final Map<String, Set<String>> OPS = Map.ofEntries(
            Map.entry("Add", NONE), Map.entry("Sub", NONE), Map.entry("Mul", NONE), Map.entry("Div", NONE),
            Map.entry("Pow", NONE),
            Map.entry("Relu", NONE), Map.entry("Tanh", NONE), Map.entry("Sigmoid", NONE),
            Map.entry("LeakyRelu", Set.of("alpha")), Map.entry("Elu", Set.of("alpha")),
            Map.entry("Gelu", Set.of("approximate")), Map.entry("Erf", NONE), Map.entry("Softplus", NONE),
            Map.entry("Clip", Set.of("min", "max")), Map.entry("Neg", NONE), Map.entry("Exp", NONE),
            Map.entry("Log", NONE), Map.entry("Sqrt", NONE), Map.entry("Abs", NONE), Map.entry("Reciprocal", NONE),
            Map.entry("MatMul", NONE), Map.entry("Gemm", Set.of("alpha", "beta", "transA", "transB")),
            Map.entry("Softmax", Set.of("axis")), Map.entry("LogSoftmax", Set.of("axis")),
            Map.entry("LayerNormalization", Set.of("axis", "epsilon", "stash_type")),
            Map.entry("ReduceMean", REDUCE), Map.entry("ReduceSum", REDUCE), Map.entry("ReduceMax", REDUCE),
            Map.entry("ReduceMin", REDUCE), Map.entry("ReduceSumSquare", REDUCE),
            Map.entry("ArgMax", Set.of("axis", "keepdims", "select_last_index")),
            Map.entry("ArgMin", Set.of("axis", "keepdims", "select_last_index")),
            Map.entry("Dropout", Set.of("ratio", "seed", "is_test")), Map.entry("Flatten", Set.of("axis")),
            Map.entry("Where", NONE), Map.entry("Equal", NONE));

    /** The node's inputs as a run gives them, on the host or on the device. */
    interface Args {
        /** Input {@code i}, null when absent. */
        Value value(int i);

        /** Input {@code i} as a device tensor, uploaded when it is on the host (a constant, once per session). */
        DeviceTensor device(int i);

        GraphKernels kernels();
    }

    private Operators() {}

    /** Checks a node's attributes and arity when the model loads. */
    static void check(Node n, int opset) {
        n.allowAttributes(OPS.get(n.opType));
        switch (n.opType) {
            case "Add", "Sub", "Mul", "Div", "Pow", "Equal", "MatMul" -> n.arity(2, 2, 1);
            case "Gemm" -> n.arity(2, 3, 1);
            case "Where" -> n.arity(3, 3, 1);
            case "Clip" -> n.arity(1, opset < 11 ? 1 : 3, 1);
            case "LayerNormalization" -> n.arity(2, 3, 3);
            case "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSumSquare" -> n.arity(1, opset < 18 ? 1 : 2, 1);
            case "ReduceSum" -> n.arity(1, opset < 13 ? 1 : 2, 1);
            case "Dropout" -> n.arity(1, opset < 12 ? 1 : 3, 2);
            case "Gelu" -> {
                n.arity(1, 1, 1);
                String a = n.getString("approximate", "none");
                if (!a.equals("none") && !a.equals("tanh")) {
                    throw new FormatException(n.where + ": approximate " + FormatException.quote(a)
                            + " is neither 'none' nor 'tanh'");
                }
            }
            default -> n.arity(1, 1, 1);
        }
        if (n.opType.startsWith("Reduce") && n.has("axes") && opset >= (n.opType.equals("ReduceSum") ? 13 : 18)) {
            throw new FormatException(n.where + ": from opset " + (n.opType.equals("ReduceSum") ? 13 : 18) + " on, "
                    + n.opType + " takes axes as an input, not an attribute");
        }
    }

    /** Runs {@code n} on its inputs; returns its outputs in order (null for one it does not give). */
    static Value[] run(Node n, Args in, int opset) {
        return switch (n.opType) {
            case "Add" -> one(binary(n, in, Binary.ADD, Math::addExact));
            case "Sub" -> one(binary(n, in, Binary.SUB, Math::subtractExact));
            case "Mul" -> one(binary(n, in, Binary.MUL, Math::multiplyExact));
            case "Div" -> one(binary(n, in, Binary.DIV, (a, b) -> {
                if (b == 0) {
                    throw n.fail("integer division by zero");
                }
                return a / b;
            }));
            case "Pow" -> one(pow(n, in));
            case "Relu" -> one(unary(n, in, Unary.RELU, 0, 0));
            case "Tanh" -> one(unary(n, in, Unary.TANH, 0, 0));
            case "Sigmoid" -> one(unary(n, in, Unary.SIGMOID, 0, 0));
            case "LeakyRelu" -> one(unary(n, in, Unary.LEAKY_RELU, n.getFloat("alpha", 0.01f), 0));
            case "Elu" -> one(unary(n, in, Unary.ELU, n.getFloat("alpha", 1f), 0));
            case "Gelu" -> one(unary(n, in, n.getString("approximate", "none").equals("tanh") ? Unary.GELU_TANH
                    : Unary.GELU, 0, 0));
            case "Erf" -> one(unary(n, in, Unary.ERF, 0, 0));
            case "Softplus" -> one(unary(n, in, Unary.SOFTPLUS, 0, 0));
            case "Clip" -> one(clip(n, in, opset));
            case "Neg" -> in.value(0) instanceof Value.Ints i ? one(mapInts(i, x -> -x))
                    : one(unary(n, in, Unary.NEG, 0, 0));
            case "Abs" -> in.value(0) instanceof Value.Ints i ? one(mapInts(i, Math::abs))
                    : one(unary(n, in, Unary.ABS, 0, 0));
            case "Exp" -> one(unary(n, in, Unary.EXP, 0, 0));
            case "Log" -> one(unary(n, in, Unary.LOG, 0, 0));
            case "Sqrt" -> one(unary(n, in, Unary.SQRT, 0, 0));
            case "Reciprocal" -> one(unary(n, in, Unary.RECIPROCAL, 0, 0));
            case "MatMul" -> one(matmul(n, in));
            case "Gemm" -> one(gemm(n, in));
            case "Softmax", "LogSoftmax" -> one(softmax(n, in, opset));
            case "LayerNormalization" -> layerNorm(n, in);
            case "ReduceMean" -> one(reduce(n, in, opset, Reduce.MEAN));
            case "ReduceSum" -> one(reduce(n, in, opset, Reduce.SUM));
            case "ReduceMax" -> one(reduce(n, in, opset, Reduce.MAX));
            case "ReduceMin" -> one(reduce(n, in, opset, Reduce.MIN));
            case "ReduceSumSquare" -> one(reduce(n, in, opset, Reduce.SUM_SQUARE));
            case "ArgMax" -> one(argReduce(n, in, Reduce.ARGMAX));
            case "ArgMin" -> one(argReduce(n, in, Reduce.ARGMIN));
            case "Dropout" -> dropout(n, in, opset);
            case "Flatten" -> one(flatten(n, in.value(0)));
            case "Equal" -> one(equal(n, in));
            case "Where" -> one(where(n, in));
            default -> throw new IllegalStateException(n.opType);
        };
    }

    private static Value[] one(Value v) {
        return new Value[] {v};
    }

    private static Value.OnDevice dev(Args in, DeviceTensor t) {
        return new Value.OnDevice(t, in.kernels());
    }

    private static Value floatsOnly(Node n, Args in, int i) {
        Value v = in.value(i);
        if (v instanceof Value.Ints) {
            throw n.fail("input " + i + " is an integer tensor; " + n.opType + " takes floats here");
        }
        return v;
    }

    private static Value unary(Node n, Args in, Unary op, float alpha, float beta) {
        floatsOnly(n, in, 0);
        return dev(in, in.kernels().unary(op, in.device(0), alpha, beta));
    }

    private static int[] broadcastOrFail(Node n, int[] a, int[] b) {
        int[] out = GraphKernels.broadcast(a, b);
        if (out == null) {
            throw n.fail("shapes " + Tensor.format(a) + " and " + Tensor.format(b) + " do not broadcast");
        }
        Value.checkedNumel(out, n.where);
        return out;
    }

    private static Value binary(Node n, Args in, Binary op, LongBinaryOperator ints) {
        Value a = in.value(0);
        Value b = in.value(1);
        int[] out = broadcastOrFail(n, a.shape(), b.shape());
        boolean aInt = a instanceof Value.Ints;
        if (aInt != (b instanceof Value.Ints)) {
            throw n.fail("adds a " + a.kind() + " tensor and a " + b.kind() + " one; " + n.opType
                    + " takes two of one type");
        }
        if (aInt) {
            return hostInts(n, (Value.Ints) a, (Value.Ints) b, out, ints);
        }
        return dev(in, in.kernels().binary(op, in.device(0), in.device(1), out));
    }

    /** An integer operator on the host, broadcasting: shape arithmetic, never large. */
    private static Value hostInts(Node n, Value.Ints a, Value.Ints b, int[] out, LongBinaryOperator op) {
        int[] ia = broadcastIndex(n, a, out);
        int[] ib = broadcastIndex(n, b, out);
        long[] x = a.tensor().data();
        long[] y = b.tensor().data();
        long[] z = new long[ia.length];
        try {
            for (int i = 0; i < z.length; i++) {
                z[i] = op.applyAsLong(x[ia[i]], y[ib[i]]);
            }
        } catch (ArithmeticException e) {
            throw n.fail("integer overflow");
        }
        return Value.of(IntTensor.of(z, out));
    }

    /** For each element of a result of shape {@code out}, the element of {@code v} that broadcasts to it. */
    private static int[] broadcastIndex(Node n, Value v, int[] out) {
        return Value.affineMap(out, 0, GraphKernels.broadcastStrides(v.shape(), out.length), n.where);
    }

    private static Value mapInts(Value.Ints v, java.util.function.LongUnaryOperator op) {
        long[] src = v.tensor().data();
        long[] dst = new long[src.length];
        for (int i = 0; i < src.length; i++) {
            dst[i] = op.applyAsLong(src[i]);
        }
        return Value.of(IntTensor.of(dst, v.shape()));
    }

    /** A single value from the host (an exponent, a clip bound), read back when it was computed on the device. */
    private static float scalar(Node n, Value v, String what) {
        if (v.numel() != 1) {
            throw n.fail(what + " should hold one value, it has shape " + Tensor.format(v.shape()));
        }
        return Value.toFloats(Value.onHost(v)).data()[0];
    }

    private static Value pow(Node n, Args in) {
        if (in.value(0) instanceof Value.Ints base) {
            // integer powers, on the host: the result keeps the base's type, as ONNX says
            Value e = Value.onHost(in.value(1));
            int[] out = broadcastOrFail(n, base.shape(), e.shape());
            Value.Ints exps = e instanceof Value.Ints i ? i : null;
            float[] f = exps == null ? Value.toFloats(e).data() : null;
            int[] ib = broadcastIndex(n, base, out);
            int[] ie = broadcastIndex(n, e, out);
            long[] z = new long[ib.length];
            for (int i = 0; i < z.length; i++) {
                double p = exps != null ? exps.tensor().data()[ie[i]] : f[ie[i]];
                z[i] = (long) Math.pow(base.tensor().data()[ib[i]], p);
            }
            return Value.of(IntTensor.of(z, out));
        }
        Value e = in.value(1);
        if (e.numel() == 1 && e.shape().length <= in.value(0).shape().length && !(e instanceof Value.OnDevice)) {
            float p = scalar(n, e, "the exponent");
            return dev(in, in.kernels().unary(p == 2f ? Unary.SQUARE : Unary.POW, in.device(0), p, 0));
        }
        int[] out = broadcastOrFail(n, in.value(0).shape(), e.shape());
        DeviceTensor exponent = e instanceof Value.Ints ? in.kernels().upload(Value.toFloats(e)) : in.device(1);
        return dev(in, in.kernels().binary(Binary.POW, in.device(0), exponent, out));
    }

    private static Value clip(Node n, Args in, int opset) {
        if (in.value(0) instanceof Value.Ints x) {
            long lo = in.value(1) == null ? Long.MIN_VALUE : (long) scalar(n, in.value(1), "min");
            long hi = in.value(2) == null ? Long.MAX_VALUE : (long) scalar(n, in.value(2), "max");
            return mapInts(x, v -> v < lo ? lo : Math.min(v, hi));
        }
        float lo;
        float hi;
        if (opset < 11) {
            lo = n.getFloat("min", Float.NEGATIVE_INFINITY);
            hi = n.getFloat("max", Float.POSITIVE_INFINITY);
        } else {
            lo = in.value(1) == null ? Float.NEGATIVE_INFINITY : scalar(n, in.value(1), "min");
            hi = in.value(2) == null ? Float.POSITIVE_INFINITY : scalar(n, in.value(2), "max");
        }
        return dev(in, in.kernels().unary(Unary.CLIP, in.device(0), lo, hi));
    }

    private static int prod(int[] shape, int from, int to) {
        long p = 1;
        for (int d = from; d < to; d++) {
            p *= shape[d];
        }
        return Math.toIntExact(p);
    }

    /**
     * numpy's matmul: 1-D operands get an axis for the product and lose it after; batch axes broadcast. A
     * right operand of rank 2 (a dense layer's weight) makes one product of all the left one's rows.
     */
    private static Value matmul(Node n, Args in) {
        floatsOnly(n, in, 0);
        floatsOnly(n, in, 1);
        int[] as = in.value(0).shape();
        int[] bs = in.value(1).shape();
        if (as.length == 0 || bs.length == 0) {
            throw n.fail("cannot multiply a scalar (MatMul takes tensors of rank 1 or more)");
        }
        int[] a2 = as.length == 1 ? new int[] {1, as[0]} : as;
        int[] b2 = bs.length == 1 ? new int[] {bs[0], 1} : bs;
        int m = a2[a2.length - 2];
        int k = a2[a2.length - 1];
        int kb = b2[b2.length - 2];
        int nn = b2[b2.length - 1];
        if (k != kb) {
            throw n.fail("cannot multiply " + Tensor.format(as) + " by " + Tensor.format(bs) + ": " + k + " != " + kb);
        }
        int[] aBatch = Arrays.copyOf(a2, a2.length - 2);
        int[] bBatch = Arrays.copyOf(b2, b2.length - 2);
        int[] batch = broadcastOrFail(n, aBatch, bBatch);
        int[] out = concat(batch, as.length == 1 ? new int[0] : new int[] {m}, bs.length == 1 ? new int[0]
                : new int[] {nn});
        Value.checkedNumel(concat(batch, new int[] {m, nn}), n.where);
        GraphKernels kernels = in.kernels();
        DeviceTensor a = in.device(0);
        DeviceTensor b = in.device(1);
        int batches = prod(batch, 0, batch.length);
        if (bBatch.length == 0 || prod(bBatch, 0, bBatch.length) == 1) {
            // one right operand for every batch: all the left one's rows in one product
            if (prod(aBatch, 0, aBatch.length) != batches) {
                a = kernels.affine(a, concat(batch, new int[] {m, k}), 0, expandStrides(a2, batch.length + 2));
            }
            return dev(in, kernels.matmul(1, batches * m, nn, k, a, k, 1, 0, b, nn, 1, 0, null, 0, 0, 1, 0, null, 0, 0,
                    out));
        }
        if (!Arrays.equals(aBatch, batch)) {
            a = kernels.affine(a, concat(batch, new int[] {m, k}), 0, expandStrides(a2, batch.length + 2));
        }
        if (!Arrays.equals(bBatch, batch)) {
            b = kernels.affine(b, concat(batch, new int[] {k, nn}), 0, expandStrides(b2, batch.length + 2));
        }
        return dev(in, kernels.matmul(batches, m, nn, k, a, k, 1, (long) m * k, b, nn, 1, (long) k * nn, null, 0, 0, 1,
                0, null, 0, 0, out));
    }

    /** Strides that read {@code shape} broadcast (from the right) to a tensor of {@code rank} axes. */
    private static long[] expandStrides(int[] shape, int rank) {
        return GraphKernels.broadcastStrides(shape, rank);
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    /** Y = alpha·op(A)·op(B) + beta·C, C broadcast to (M, N); transA and transB by strides, not copies. */
    private static Value gemm(Node n, Args in) {
        floatsOnly(n, in, 0);
        floatsOnly(n, in, 1);
        int[] as = in.value(0).shape();
        int[] bs = in.value(1).shape();
        if (as.length != 2 || bs.length != 2) {
            throw n.fail("A and B should be 2-D, got " + Tensor.format(as) + " and " + Tensor.format(bs));
        }
        boolean ta = n.getInt("transA", 0) != 0;
        boolean tb = n.getInt("transB", 0) != 0;
        int m = ta ? as[1] : as[0];
        int k = ta ? as[0] : as[1];
        int kb = tb ? bs[1] : bs[0];
        int nn = tb ? bs[0] : bs[1];
        if (k != kb) {
            throw n.fail("cannot multiply A " + Tensor.format(as) + (ta ? " transposed" : "") + " by B "
                    + Tensor.format(bs) + (tb ? " transposed" : "") + ": " + k + " != " + kb);
        }
        int[] out = {m, nn};
        Value.checkedNumel(out, n.where);
        DeviceTensor c = null;
        long cm = 0;
        long cn = 0;
        if (in.value(2) != null) {
            floatsOnly(n, in, 2);
            int[] cs = in.value(2).shape();
            int[] fit = GraphKernels.broadcast(cs, out);
            if (cs.length > 2 || fit == null || !Arrays.equals(fit, out)) {
                throw n.fail("C " + Tensor.format(cs) + " does not broadcast to " + Tensor.format(out));
            }
            long[] st = GraphKernels.broadcastStrides(cs, 2);
            cm = st[0];
            cn = st[1];
            c = in.device(2);
        }
        return dev(in, in.kernels().matmul(1, m, nn, k, in.device(0), ta ? 1 : k, ta ? m : 1, 0, in.device(1),
                tb ? 1 : nn, tb ? k : 1, 0, c, cm, cn, n.getFloat("alpha", 1f), n.getFloat("beta", 1f), null, 0, 0,
                out));
    }

    /** The activations a dense head can apply in the same kernel, with their attribute. */
    static final Map<String, Unary> HEAD_ACTIVATIONS = Map.of("Relu", Unary.RELU, "Tanh", Unary.TANH, "Sigmoid",
            Unary.SIGMOID, "LeakyRelu", Unary.LEAKY_RELU);

    /**
     * Whether {@code n} can be a dense head: a MatMul whose right operand is a constant matrix, or a Gemm with
     * constant B (and C, when given) and A not transposed. {@code constant} gives a constant input by name.
     */
    static boolean isDenseHead(Node n, java.util.function.Function<String, Value> constant) {
        Value b = n.inputs.size() > 1 ? constant.apply(n.input(1)) : null;
        if (!(b instanceof Value.Floats f) || f.shape().length != 2) {
            return false;
        }
        if (n.opType.equals("MatMul")) {
            return true;
        }
        if (!n.opType.equals("Gemm") || n.getInt("transA", 0) != 0) {
            return false;
        }
        Value c = n.hasInput(2) ? constant.apply(n.input(2)) : null;
        int cols = n.getInt("transB", 0) != 0 ? f.shape()[0] : f.shape()[1];
        return !n.hasInput(2) || c instanceof Value.Floats cf && isBiasOf(cf.tensor(), cols);
    }

    /** A bias of {@code n} columns: n values, or one, along the last axis only. */
    static boolean isBiasOf(Tensor t, int n) {
        int[] s = t.shape();
        for (int d = 0; d < s.length - 1; d++) {
            if (s[d] != 1) {
                return false;
            }
        }
        return t.numel() == n || t.numel() == 1;
    }

    /**
     * A dense head in one launch: A times the constant weight (packed once, alpha folded in), plus Gemm's C times
     * beta or a following Add's bias, then a following activation ({@code act}, null for none). A's leading axes
     * are rows.
     */
    static Value dense(Node head, Args in, Tensor bias, Node act, java.util.Map<Object, DeviceTensor> packed) {
        floatsOnly(head, in, 0);
        Tensor b = ((Value.Floats) in.value(1)).tensor();
        boolean gemm = head.opType.equals("Gemm");
        boolean transB = gemm && head.getInt("transB", 0) != 0;
        int k = transB ? b.size(1) : b.size(0);
        int n = transB ? b.size(0) : b.size(1);
        int[] as = in.value(0).shape();
        if (as.length == 0 || (gemm && as.length != 2)) {
            throw head.fail("A should be " + (gemm ? "2-D" : "of rank 1 or more") + ", got " + Tensor.format(as));
        }
        if (as[as.length - 1] != k) {
            throw head.fail("cannot multiply " + Tensor.format(as) + " by " + Tensor.format(b.shape())
                    + (transB ? " transposed" : "") + ": " + as[as.length - 1] + " != " + k);
        }
        int[] out = as.clone();
        out[out.length - 1] = n;
        if (as.length == 1) {
            out = new int[] {n};
        }
        Value.checkedNumel(out, head.where);
        int rows = prod(as, 0, as.length - 1);
        float alpha = gemm ? head.getFloat("alpha", 1f) : 1f;
        Tensor c = gemm && head.hasInput(2) ? ((Value.Floats) in.value(2)).tensor() : bias;
        float beta = gemm && head.hasInput(2) ? head.getFloat("beta", 1f) : 1f;
        DeviceTensor w = packed.computeIfAbsent(head, h -> in.kernels().packDense(scaled(b, alpha), transB,
                c == null ? null : scaled(broadcastRow(c, n), beta)));
        Unary a = act == null ? null : HEAD_ACTIVATIONS.get(act.opType);
        float actAlpha = act != null && act.opType.equals("LeakyRelu") ? act.getFloat("alpha", 0.01f) : 0f;
        return dev(in, in.kernels().dense(in.device(0), rows, n, k, w, c != null, a, actAlpha, 0, out));
    }

    private static Tensor scaled(Tensor t, float factor) {
        if (factor == 1f) {
            return t;
        }
        float[] d = t.data().clone();
        for (int i = 0; i < d.length; i++) {
            d[i] *= factor;
        }
        return Tensor.of(d, t.shape());
    }

    private static Tensor broadcastRow(Tensor bias, int n) {
        if (bias.numel() == n) {
            return bias;
        }
        float[] row = new float[n];
        java.util.Arrays.fill(row, bias.data()[0]);
        return Tensor.of(row, n);
    }

    /** Before opset 13 the input is seen as 2-D around the axis (default 1); from 13 on, one axis (default -1). */
    private static Value softmax(Node n, Args in, int opset) {
        floatsOnly(n, in, 0);
        int[] s = in.value(0).shape();
        boolean log = n.opType.equals("LogSoftmax");
        if (s.length == 0) {
            throw n.fail("takes a tensor of rank 1 or more, got a scalar");
        }
        int axis = HostOperators.axis(n, n.getInt("axis", opset < 13 ? 1 : -1), s.length);
        if (opset < 13) {
            return dev(in, in.kernels().softmax(in.device(0), prod(s, 0, axis), prod(s, axis, s.length), 1, log));
        }
        return dev(in, in.kernels().softmax(in.device(0), prod(s, 0, axis), s[axis], prod(s, axis + 1, s.length), log));
    }

    private static Value[] layerNorm(Node n, Args in) {
        floatsOnly(n, in, 0);
        int[] s = in.value(0).shape();
        if (s.length == 0) {
            throw n.fail("takes a tensor of rank 1 or more, got a scalar");
        }
        int axis = HostOperators.axis(n, n.getInt("axis", -1), s.length);
        int rows = prod(s, 0, axis);
        int width = prod(s, axis, s.length);
        float eps = n.getFloat("epsilon", 1e-5f);
        for (int i = 1; i <= 2; i++) {
            Value v = in.value(i);
            if (v != null && v.numel() != width && v.numel() != 1) {
                throw n.fail((i == 1 ? "Scale " : "B ") + Tensor.format(v.shape()) + " does not fit the "
                        + width + " normalised values of each row (axis " + axis + " of " + Tensor.format(s) + ")");
            }
        }
        GraphKernels k = in.kernels();
        DeviceTensor x = in.device(0);
        Value y = dev(in, k.layerNorm(x, rows, width, eps, in.device(1), in.value(2) == null ? null : in.device(2)));
        boolean wantsStats = n.outputs.size() > 1 && (!n.output(1).isEmpty() || !n.output(2).isEmpty());
        if (!wantsStats) {
            return new Value[] {y, null, null};
        }
        // Mean and InvStdDev: the shape of X with the normalised axes kept as 1
        int[] stat = s.clone();
        for (int d = axis; d < s.length; d++) {
            stat[d] = 1;
        }
        DeviceTensor mean = k.reduce(x, rows, width, 1, Reduce.MEAN, false, stat);
        DeviceTensor centred = k.binary(Binary.SUB, x, mean, s);
        DeviceTensor var = k.reduce(centred, rows, width, 1, Reduce.SUM_SQUARE, false, stat);
        DeviceTensor inv = k.unary(Unary.RECIPROCAL, k.unary(Unary.SQRT, k.unary(Unary.AFFINE, var, 1f / width, eps),
                0, 0), 0, 0);
        return new Value[] {y, dev(in, mean), dev(in, inv)};
    }

    /** The axes a Reduce* node reduces, sorted and non-negative; null when it reduces nothing (noop). */
    private static int[] reduceAxes(Node n, Args in, int opset, int rank) {
        boolean fromInput = opset >= (n.opType.equals("ReduceSum") ? 13 : 18);
        long[] axes;
        if (fromInput) {
            Value v = in.value(1);
            if (v != null && !(v instanceof Value.Ints)) {
                throw n.fail("its axes input is a float tensor; it takes integers");
            }
            axes = v == null ? null : ((Value.Ints) v).tensor().data();
        } else {
            axes = n.getInts("axes");
        }
        if (axes == null || axes.length == 0) {
            if (n.getInt("noop_with_empty_axes", 0) != 0) {
                return null;
            }
            int[] all = new int[rank];
            for (int d = 0; d < rank; d++) {
                all[d] = d;
            }
            return all;
        }
        boolean[] seen = HostOperators.axisSet(n, axes, rank);
        return java.util.stream.IntStream.range(0, rank).filter(d -> seen[d]).toArray();
    }

    private static Value reduce(Node n, Args in, int opset, Reduce op) {
        floatsOnly(n, in, 0);
        int[] s = in.value(0).shape();
        int[] axes = reduceAxes(n, in, opset, s.length);
        if (axes == null) {
            return in.value(0);
        }
        boolean keep = n.getInt("keepdims", 1) != 0;
        return dev(in, reduceAxes(in.kernels(), in.device(0), axes, keep, op, false));
    }

    /** Reduces {@code axes} of x: directly when they are adjacent, else after moving them to the end. */
    private static DeviceTensor reduceAxes(GraphKernels k, DeviceTensor x, int[] axes, boolean keep, Reduce op,
            boolean last) {
        int[] s = x.shape();
        int r = s.length;
        boolean[] reduced = new boolean[r];
        for (int a : axes) {
            reduced[a] = true;
        }
        int[] out = java.util.stream.IntStream.range(0, r).filter(d -> keep || !reduced[d])
                .map(d -> reduced[d] ? 1 : s[d]).toArray();
        boolean adjacent = axes.length == 0 || axes[axes.length - 1] - axes[0] == axes.length - 1;
        if (adjacent && axes.length > 0) {
            int outer = prod(s, 0, axes[0]);
            int len = prod(s, axes[0], axes[axes.length - 1] + 1);
            int inner = prod(s, axes[axes.length - 1] + 1, r);
            return k.reduce(x, outer, len, inner, op, last, out);
        }
        int[] perm = java.util.stream.IntStream.concat(java.util.stream.IntStream.range(0, r).filter(d -> !reduced[d]),
                Arrays.stream(axes)).toArray();
        int[] moved = Arrays.stream(perm).map(d -> s[d]).toArray();
        long[] st = GraphKernels.contiguous(s);
        long[] src = Arrays.stream(perm).mapToLong(d -> st[d]).toArray();
        DeviceTensor t = k.affine(x, moved, 0, src);
        int kept = r - axes.length;
        return k.reduce(t, prod(moved, 0, kept), prod(moved, kept, r), 1, op, last, out);
    }

    private static Value argReduce(Node n, Args in, Reduce op) {
        floatsOnly(n, in, 0);
        int[] s = in.value(0).shape();
        if (s.length == 0) {
            throw n.fail("takes a tensor of rank 1 or more, got a scalar");
        }
        int axis = HostOperators.axis(n, n.getInt("axis", 0), s.length);
        if (s[axis] == 0) {
            throw n.fail("cannot take " + n.opType + " over an empty axis");
        }
        boolean keep = n.getInt("keepdims", 1) != 0;
        boolean last = n.getInt("select_last_index", 0) != 0;
        DeviceTensor idx = reduceAxes(in.kernels(), in.device(0), new int[] {axis}, keep, op, last);
        Tensor f = in.kernels().download(idx);
        long[] out = new long[f.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (long) f.data()[i];
        }
        return Value.of(IntTensor.of(out, f.shape()));
    }

    /** Inference: the input as it is, and a mask of ones when asked for; training mode is refused. */
    private static Value[] dropout(Node n, Args in, int opset) {
        if (opset >= 12 && in.value(2) != null && scalar(n, in.value(2), "training_mode") != 0) {
            throw n.fail("training_mode is true; clrnn runs inference only");
        }
        Value x = in.value(0);
        long[] ones = new long[x.numel()];
        Arrays.fill(ones, 1);
        return new Value[] {x, n.output(1).isEmpty() ? null : Value.of(IntTensor.of(ones, x.shape()))};
    }

    private static Value flatten(Node n, Value x) {
        int[] s = x.shape();
        long a = n.getInt("axis", 1);
        if (a < -s.length || a > s.length) {
            throw n.fail("axis " + a + " is out of range for rank " + s.length);
        }
        int axis = (int) (a < 0 ? a + s.length : a);
        return x.reshape(new int[] {prod(s, 0, axis), prod(s, axis, s.length)});
    }

    /** Equal and Where work on masks: on the host, reading device data back. */
    private static Value equal(Node n, Args in) {
        Value a = Value.onHost(in.value(0));
        Value b = Value.onHost(in.value(1));
        int[] out = broadcastOrFail(n, a.shape(), b.shape());
        if (a instanceof Value.Ints ia && b instanceof Value.Ints ib) {
            return hostInts(n, ia, ib, out, (x, y) -> x == y ? 1 : 0);
        }
        if (a instanceof Value.Ints || b instanceof Value.Ints) {
            throw n.fail("compares a " + a.kind() + " tensor with a " + b.kind() + " one");
        }
        int[] ia = broadcastIndex(n, a, out);
        int[] ib = broadcastIndex(n, b, out);
        float[] x = Value.toFloats(a).data();
        float[] y = Value.toFloats(b).data();
        long[] z = new long[ia.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = x[ia[i]] == y[ib[i]] ? 1 : 0;
        }
        return Value.of(IntTensor.of(z, out));
    }

    private static Value where(Node n, Args in) {
        if (!(in.value(0) instanceof Value.Ints cond)) {
            throw n.fail("its condition is a float tensor; it takes bool");
        }
        Value x = Value.onHost(in.value(1));
        Value y = Value.onHost(in.value(2));
        if (!x.kind().equals(y.kind())) {
            throw n.fail("chooses between a " + x.kind() + " tensor and a " + y.kind() + " one");
        }
        int[] xy = broadcastOrFail(n, x.shape(), y.shape());
        int[] out = broadcastOrFail(n, cond.shape(), xy);
        int[] ic = broadcastIndex(n, cond, out);
        int[] ix = broadcastIndex(n, x, out);
        int[] iy = broadcastIndex(n, y, out);
        long[] c = cond.tensor().data();
        if (x instanceof Value.Ints xi) {
            long[] a = xi.tensor().data();
            long[] b = ((Value.Ints) y).tensor().data();
            long[] z = new long[ic.length];
            for (int i = 0; i < z.length; i++) {
                z[i] = c[ic[i]] != 0 ? a[ix[i]] : b[iy[i]];
            }
            return Value.of(IntTensor.of(z, out));
        }
        float[] a = Value.toFloats(x).data();
        float[] b = Value.toFloats(y).data();
        float[] z = new float[ic.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = c[ic[i]] != 0 ? a[ix[i]] : b[iy[i]];
        }
        return Value.of(Tensor.of(z, out));
    }
}
