package io.clrnn.onnx;

import io.clrnn.base.Tensor;
import io.clrnn.format.ElementType;
import io.clrnn.format.FormatException;
import io.clrnn.base.Half;
import io.clrnn.onnx.proto.TensorProto;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The operators torch.onnx.export puts around recurrent nodes (found by exporting nn.RNN, LSTM and GRU with
 * torch 1.13 at opsets 7 to 17): reshapes, slices, shape arithmetic on small integer tensors, and the zero
 * states it builds when no initial state is given. Each runs on the host over whole arrays; none touches
 * a sequence step by step. Opset-dependent forms (Slice before 10, Squeeze and Unsqueeze before 13) both run.
 */
final class HostOperators {
    /** Each operator with the attributes it may carry. */
    static final Map<String, Set<String>> OPS = Map.ofEntries(
            Map.entry("Cast", Set.of("to", "saturate")),
            Map.entry("Concat", Set.of("axis")),
            Map.entry("Constant", Set.of("value", "value_float", "value_floats", "value_int", "value_ints")),
            Map.entry("ConstantFill", Set.of("dtype", "value", "input_as_shape", "shape", "extra_shape")),
            Map.entry("ConstantOfShape", Set.of("value")),
            Map.entry("Expand", Set.of()),
            Map.entry("Gather", Set.of("axis")),
            Map.entry("Identity", Set.of()),
            Map.entry("Reshape", Set.of("allowzero")),
            Map.entry("Shape", Set.of("start", "end")),
            Map.entry("Size", Set.of()),
            Map.entry("Slice", Set.of("starts", "ends", "axes")),
            Map.entry("Squeeze", Set.of("axes")),
            Map.entry("Transpose", Set.of("perm")),
            Map.entry("Unsqueeze", Set.of("axes")));

    private HostOperators() {}

    /** Checks a node's attributes and arity when the model loads, so that a bad one is refused up front. */
    static void check(Node n, int opset) {
        n.allowAttributes(OPS.get(n.opType));
        switch (n.opType) {
            case "Cast" -> {
                n.arity(1, 1, 1);
                if (!n.has("to")) {
                    throw new FormatException(n.where + " has no attribute 'to'");
                }
                castTarget(n);
            }
            case "Concat" -> {
                n.arity(1, Integer.MAX_VALUE, 1);
                if (n.inputs.contains("")) {
                    throw new FormatException(n.where + " leaves one of its inputs empty");
                }
                if (!n.has("axis")) {
                    throw new FormatException(n.where + " has no attribute 'axis'");
                }
                n.getInt("axis", 0);
            }
            case "Constant" -> n.arity(0, 0, 1);
            case "ConstantFill" -> n.arity(0, 1, 1);
            case "ConstantOfShape" -> n.arity(1, 1, 1);
            case "Expand", "Reshape" -> n.arity(2, 2, 1);
            case "Gather" -> n.arity(2, 2, 1);
            case "Identity", "Shape", "Size", "Transpose" -> n.arity(1, 1, 1);
            case "Slice" -> {
                if (opset < 10) {
                    n.arity(1, 1, 1);
                    if (n.getInts("starts") == null || n.getInts("ends") == null) {
                        throw new FormatException(n.where + " needs attributes 'starts' and 'ends' (opset " + opset
                                + ")");
                    }
                } else {
                    n.arity(3, 5, 1);
                    if (n.has("starts") || n.has("ends") || n.has("axes")) {
                        throw new FormatException(n.where + ": from opset 10 on, Slice takes starts, ends and axes "
                                + "as inputs, not attributes");
                    }
                }
            }
            case "Squeeze", "Unsqueeze" -> {
                if (opset < 13) {
                    n.arity(1, 1, 1);
                    if (n.opType.equals("Unsqueeze") && n.getInts("axes") == null) {
                        throw new FormatException(n.where + " needs attribute 'axes' (opset " + opset + ")");
                    }
                } else {
                    n.arity(n.opType.equals("Unsqueeze") ? 2 : 1, 2, 1);
                    if (n.has("axes")) {
                        throw new FormatException(n.where + ": from opset 13 on, " + n.opType
                                + " takes axes as an input, not an attribute");
                    }
                }
            }
            default -> throw new IllegalStateException(n.opType);
        }
    }

    /** The inputs through which a node passes data on (not shapes or indices): what roles are traced through. */
    static boolean passesData(Node n, int input) {
        return switch (n.opType) {
            case "Concat" -> true;
            case "Cast", "Expand", "Gather", "Identity", "Reshape", "Slice", "Squeeze", "Transpose", "Unsqueeze" ->
                    input == 0;
            default -> false;
        };
    }

    /** Runs {@code n} on its inputs (null for absent optional ones). */
    static Value run(Node n, Value[] in, int opset, Path dir, String file) {
        return switch (n.opType) {
            case "Identity" -> in[0];
            case "Constant" -> constant(n, dir, file);
            case "Cast" -> cast(n, in[0]);
            case "Shape" -> shape(n, in[0]);
            case "Size" -> Value.of(IntTensor.of(new long[] {in[0].numel()}));
            case "Gather" -> gather(n, in[0], ints(n, in[1], "indices"));
            case "Concat" -> concat(n, in);
            case "Transpose" -> transpose(n, in[0]);
            case "Reshape" -> reshape(n, in[0], ints(n, in[1], "shape"));
            case "Squeeze" -> squeeze(n, in[0], opset < 13 ? n.getInts("axes") : optionalInts(n, in, 1, "axes"));
            case "Unsqueeze" -> unsqueeze(n, in[0], opset < 13 ? n.getInts("axes") : ints(n, in[1], "axes").data());
            case "Slice" -> opset < 10
                    ? slice(n, in[0], n.getInts("starts"), n.getInts("ends"), n.getInts("axes"), null)
                    : slice(n, in[0], ints(n, in[1], "starts").data(), ints(n, in[2], "ends").data(),
                            optionalInts(n, in, 3, "axes"), optionalInts(n, in, 4, "steps"));
            case "Expand" -> expand(n, in[0], ints(n, in[1], "shape"));
            case "ConstantOfShape" -> constantOfShape(n, ints(n, in[0], "shape"), dir, file);
            case "ConstantFill" -> constantFill(n, in.length > 0 ? in[0] : null);
            default -> throw new IllegalStateException(n.opType);
        };
    }

    private static IntTensor ints(Node n, Value v, String what) {
        if (v instanceof Value.Ints i) {
            return i.tensor();
        }
        throw n.fail("its " + what + " input is a float tensor; it takes integers");
    }

    private static long[] optionalInts(Node n, Value[] in, int i, String what) {
        return i < in.length && in[i] != null ? ints(n, in[i], what).data() : null;
    }

    private static Value constant(Node n, Path dir, String file) {
        int given = (n.has("value") ? 1 : 0) + (n.has("value_float") ? 1 : 0) + (n.has("value_floats") ? 1 : 0)
                + (n.has("value_int") ? 1 : 0) + (n.has("value_ints") ? 1 : 0);
        if (given != 1) {
            throw new FormatException(n.where + " should have exactly one value attribute (clrnn reads value, "
                    + "value_float(s), value_int(s)); it has " + given);
        }
        if (n.has("value")) {
            return TensorData.decode(n.getTensor("value"), dir, file, n.label + " value");
        }
        if (n.has("value_float")) {
            return Value.of(Tensor.of(new float[] {n.getFloat("value_float", 0)}));
        }
        if (n.has("value_floats")) {
            float[] f = n.getFloats("value_floats");
            return Value.of(Tensor.of(f, f.length));
        }
        if (n.has("value_int")) {
            return Value.of(IntTensor.of(new long[] {n.getInt("value_int", 0)}));
        }
        long[] i = n.getInts("value_ints");
        return Value.of(IntTensor.of(i, i.length));
    }

    private static ElementType castTarget(Node n) {
        long to = n.getInt("to", 0);
        ElementType t = to > 0 && to < 100 ? ElementType.ofOnnx((int) to) : null;
        if (t == null) {
            throw new FormatException(n.where + " casts to " + ElementType.onnxName((int) Math.min(to, 1000))
                    + "; clrnn casts to float and integer types");
        }
        return t;
    }

    private static Value cast(Node n, Value value) {
        ElementType to = castTarget(n);
        boolean narrows = to == ElementType.F16 || to == ElementType.BF16;
        if (to.isFloat() && !narrows && value instanceof Value.OnDevice) {
            return value;
        }
        Value v = Value.onHost(value);
        if (narrows) {
            // kept as float32, as everywhere in clrnn, but rounded to what the narrower type can hold
            float[] src = Value.toFloats(v).data();
            float[] dst = new float[src.length];
            for (int i = 0; i < src.length; i++) {
                dst[i] = to == ElementType.F16 ? Half.toFloat(Half.fromFloat(src[i])) : Half.roundToBfloat16(src[i]);
            }
            return Value.of(Tensor.of(dst, v.shape()));
        }
        if (to.isFloat()) {
            // float64 values are kept as float32, as everywhere in clrnn.
            return v instanceof Value.Floats ? v : Value.of(Value.toFloats(v));
        }
        long[] dst = new long[v.numel()];
        if (v instanceof Value.Floats f) {
            float[] src = f.tensor().data();
            for (int i = 0; i < src.length; i++) {
                dst[i] = to.wrap(to == ElementType.BOOL ? (src[i] != 0 ? 1 : 0) : (long) src[i]);
            }
        } else {
            long[] src = ((Value.Ints) v).tensor().data();
            for (int i = 0; i < src.length; i++) {
                dst[i] = to.wrap(src[i]);
            }
        }
        return Value.of(IntTensor.of(dst, v.shape()));
    }

    private static Value shape(Node n, Value v) {
        int[] shape = v.shape();
        int r = shape.length;
        long start = clampAxis(n.getInt("start", 0), r);
        long end = clampAxis(n.getInt("end", r), r);
        long[] dims = new long[(int) Math.max(0, end - start)];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape[(int) start + i];
        }
        return Value.of(IntTensor.of(dims, dims.length));
    }

    private static long clampAxis(long a, int r) {
        long x = a < 0 ? a + r : a;
        return Math.max(0, Math.min(r, x));
    }

    /** An axis in [-rank, rank) made non-negative. */
    static int axis(Node n, long a, int rank) {
        if (a < -rank || a >= rank) {
            throw n.fail("axis " + a + " is out of range for rank " + rank);
        }
        return (int) (a < 0 ? a + rank : a);
    }

    /** Which of {@code rank} axes {@code axes} names (each in [-rank, rank), none twice). */
    static boolean[] axisSet(Node n, long[] axes, int rank) {
        boolean[] set = new boolean[rank];
        for (long a : axes) {
            int d = axis(n, a, rank);
            if (set[d]) {
                throw n.fail("axes " + Arrays.toString(axes) + " repeat an axis");
            }
            set[d] = true;
        }
        return set;
    }

    private static Value transpose(Node n, Value v) {
        int[] shape = v.shape();
        int r = shape.length;
        long[] perm = n.getInts("perm");
        if (perm == null) {
            perm = new long[r];
            for (int i = 0; i < r; i++) {
                perm[i] = r - 1 - i;
            }
        }
        if (perm.length != r) {
            throw n.fail("perm " + Arrays.toString(perm) + " does not fit an input of rank " + r);
        }
        boolean[] seen = new boolean[r];
        long[] in = GraphKernels.contiguous(shape);
        int[] out = new int[r];
        long[] src = new long[r];
        for (int i = 0; i < r; i++) {
            if (perm[i] < 0 || perm[i] >= r || seen[(int) perm[i]]) {
                throw n.fail("perm " + Arrays.toString(perm) + " is not a permutation of the input's " + r + " axes");
            }
            seen[(int) perm[i]] = true;
            out[i] = shape[(int) perm[i]];
            src[i] = in[(int) perm[i]];
        }
        return v.affine(out, 0, src, n.where);
    }

    private static Value gather(Node n, Value data, IntTensor indices) {
        int[] shape = data.shape();
        if (shape.length == 0) {
            throw n.fail("cannot gather from a scalar");
        }
        int axis = axis(n, n.getInt("axis", 0), shape.length);
        int dim = shape[axis];
        int[] idxShape = indices.shape();
        int[] out = new int[shape.length - 1 + idxShape.length];
        System.arraycopy(shape, 0, out, 0, axis);
        System.arraycopy(idxShape, 0, out, axis, idxShape.length);
        System.arraycopy(shape, axis + 1, out, axis + idxShape.length, shape.length - axis - 1);
        int outer = (int) Tensor.numel(Arrays.copyOfRange(shape, 0, axis));
        int inner = (int) Tensor.numel(Arrays.copyOfRange(shape, axis + 1, shape.length));
        long[] idx = indices.data();
        if (data instanceof Value.OnDevice d) {
            Value.checkedNumel(out, n.where);
            int[] rows = new int[idx.length];
            for (int i = 0; i < idx.length; i++) {
                rows[i] = (int) checkedIndex(n, idx[i], axis, dim);
            }
            return new Value.OnDevice(d.kernels().gather(d.tensor(), outer, dim, inner, rows, out), d.kernels());
        }
        int[] from = new int[Value.checkedNumel(out, n.where)];
        int k = 0;
        for (int o = 0; o < outer; o++) {
            for (long j : idx) {
                int base = (o * dim + (int) checkedIndex(n, j, axis, dim)) * inner;
                for (int i = 0; i < inner; i++) {
                    from[k++] = base + i;
                }
            }
        }
        return data.gather(from, out);
    }

    /** Index {@code j} into an axis of size {@code dim}, made non-negative; out of range is refused. */
    private static long checkedIndex(Node n, long j, int axis, int dim) {
        if (j < -dim || j >= dim) {
            throw n.fail("index " + j + " is out of range for axis " + axis + " of size " + dim);
        }
        return j < 0 ? j + dim : j;
    }

    private static Value concat(Node n, Value[] in) {
        Value first = in[0];
        int[] shape = first.shape();
        if (shape.length == 0) {
            throw n.fail("cannot concatenate scalars");
        }
        int axis = axis(n, n.getInt("axis", 0), shape.length);
        int[] out = shape.clone();
        out[axis] = 0;
        for (Value v : in) {
            int[] s = v.shape();
            boolean fits = s.length == shape.length && v.kind().equals(first.kind());
            for (int d = 0; fits && d < s.length; d++) {
                fits = d == axis || s[d] == shape[d];
            }
            if (!fits) {
                throw n.fail("cannot concatenate " + first.kind() + " " + Tensor.format(shape) + " and " + v.kind()
                        + " " + Tensor.format(s) + " along axis " + axis);
            }
            out[axis] += s[axis];
        }
        int count = Value.checkedNumel(out, n.where);
        int outer = (int) Tensor.numel(Arrays.copyOfRange(shape, 0, axis));
        int inner = (int) Tensor.numel(Arrays.copyOfRange(shape, axis + 1, shape.length));
        int row = out[axis] * inner;
        GraphKernels kernels = Arrays.stream(in).filter(v -> v instanceof Value.OnDevice)
                .map(v -> ((Value.OnDevice) v).kernels()).findFirst().orElse(null);
        if (kernels != null) {
            // any input on the device: every piece is copied into its place there
            DeviceTensor dst = kernels.fresh(out);
            long[] dstStrides = GraphKernels.contiguous(out);
            long at = 0;
            for (Value v : in) {
                DeviceTensor src = v instanceof Value.OnDevice d ? d.tensor()
                        : kernels.upload(((Value.Floats) v).tensor());
                kernels.copyInto(src, 0, GraphKernels.contiguous(src.shape()), dst, at, dstStrides, src.shape());
                at += (long) src.shape()[axis] * inner;
            }
            return new Value.OnDevice(dst, kernels);
        }
        // every input is of first's kind (checked above): one copy loop serves float[] and long[] alike
        boolean floats = first instanceof Value.Floats;
        Object dst = floats ? new float[count] : new long[count];
        int at = 0;
        for (Value v : in) {
            int block = v.shape()[axis] * inner;
            Object src = floats ? ((Value.Floats) v).tensor().data() : ((Value.Ints) v).tensor().data();
            for (int o = 0; o < outer; o++) {
                System.arraycopy(src, o * block, dst, o * row + at, block);
            }
            at += block;
        }
        return floats ? Value.of(Tensor.of((float[]) dst, out)) : Value.of(IntTensor.of((long[]) dst, out));
    }

    private static Value reshape(Node n, Value v, IntTensor target) {
        if (target.rank() != 1) {
            throw n.fail("its shape input should be 1-D, got " + Tensor.format(target.shape()));
        }
        int[] in = v.shape();
        boolean allowZero = n.getInt("allowzero", 0) != 0;
        long[] t = target.data();
        int[] out = new int[t.length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < t.length; i++) {
            long d = t[i];
            if (d == 0 && !allowZero) {
                if (i >= in.length) {
                    throw n.fail("shape " + Arrays.toString(t) + " copies dimension " + i + " of an input of rank "
                            + in.length);
                }
                d = in[i];
            }
            if (d == -1) {
                if (infer >= 0) {
                    throw n.fail("shape " + Arrays.toString(t) + " has more than one -1");
                }
                infer = i;
                continue;
            }
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw n.fail("shape " + Arrays.toString(t) + " has dimension " + d);
            }
            out[i] = (int) d;
            // Saturates above 2^31 (no tensor is that large) so that the product cannot overflow.
            known = d == 0 ? 0 : known > Integer.MAX_VALUE ? known : known * d;
        }
        long numel = v.numel();
        if (infer >= 0) {
            if (known == 0 || numel % known != 0) {
                throw n.fail("cannot reshape " + Tensor.format(in) + " to " + Arrays.toString(t));
            }
            out[infer] = (int) (numel / known);
            known *= out[infer];
        }
        if (known != numel) {
            throw n.fail("cannot reshape " + Tensor.format(in) + " (" + numel + " elements) to " + Arrays.toString(t));
        }
        return v.reshape(out);
    }

    private static Value squeeze(Node n, Value v, long[] axes) {
        int[] in = v.shape();
        boolean[] drop = new boolean[in.length];
        if (axes == null) {
            for (int d = 0; d < in.length; d++) {
                drop[d] = in[d] == 1;
            }
        } else {
            for (long a : axes) {
                int d = axis(n, a, in.length);
                if (in[d] != 1) {
                    throw n.fail("cannot squeeze axis " + a + " of " + Tensor.format(in) + ": its size is not 1");
                }
                drop[d] = true;
            }
        }
        return v.reshape(IntStream.range(0, in.length).filter(d -> !drop[d]).map(d -> in[d]).toArray());
    }

    private static Value unsqueeze(Node n, Value v, long[] axes) {
        int[] in = v.shape();
        int rank = in.length + axes.length;
        boolean[] added = axisSet(n, axes, rank);
        int[] out = new int[rank];
        for (int d = 0, j = 0; d < rank; d++) {
            out[d] = added[d] ? 1 : in[j++];
        }
        return v.reshape(out);
    }

    private static Value slice(Node n, Value v, long[] starts, long[] ends, long[] axes, long[] steps) {
        int[] in = v.shape();
        int r = in.length;
        if (starts.length != ends.length || (axes != null && axes.length != starts.length)
                || (steps != null && steps.length != starts.length)) {
            throw n.fail("starts, ends, axes and steps differ in length");
        }
        long[] begin = new long[r];
        long[] step = new long[r];
        int[] out = in.clone();
        Arrays.fill(step, 1);
        boolean[] seen = new boolean[r];
        for (int i = 0; i < starts.length; i++) {
            int d = axis(n, axes == null ? i : axes[i], r);
            if (seen[d]) {
                throw n.fail("slices axis " + d + " twice");
            }
            seen[d] = true;
            long s = steps == null ? 1 : steps[i];
            if (s == 0) {
                throw n.fail("has a step of 0");
            }
            long dim = in[d];
            long lo = starts[i] < 0 ? starts[i] + dim : starts[i];
            long hi = ends[i] < 0 ? ends[i] + dim : ends[i];
            long count;
            if (s > 0) {
                lo = Math.max(0, Math.min(dim, lo));
                hi = Math.max(0, Math.min(dim, hi));
                count = hi > lo ? (hi - lo + s - 1) / s : 0;
            } else {
                lo = Math.max(0, Math.min(dim - 1, lo));
                hi = Math.max(-1, Math.min(dim - 1, hi));
                count = lo > hi ? (lo - hi + (-s) - 1) / (-s) : 0;
            }
            begin[d] = lo;
            step[d] = s;
            out[d] = (int) count;
        }
        long[] st = GraphKernels.contiguous(in);
        long base = 0;
        long[] src = new long[r];
        for (int d = 0; d < r; d++) {
            if (out[d] > 0) {
                base += begin[d] * st[d];
            }
            src[d] = step[d] * st[d];
        }
        return v.affine(out, base, src, n.where);
    }

    private static Value expand(Node n, Value v, IntTensor target) {
        if (target.rank() != 1) {
            throw n.fail("its shape input should be 1-D, got " + Tensor.format(target.shape()));
        }
        int[] in = v.shape();
        long[] t = target.data();
        int r = Math.max(in.length, t.length);
        int[] out = new int[r];
        for (int d = 0; d < r; d++) {
            int i = d - (r - in.length);
            int j = d - (r - t.length);
            long a = i >= 0 ? in[i] : 1;
            long b = j >= 0 ? t[j] : 1;
            if (b < 0 || b > Integer.MAX_VALUE || (a != b && a != 1 && b != 1)) {
                throw n.fail("cannot expand " + Tensor.format(in) + " to " + Arrays.toString(t));
            }
            out[d] = (int) (a == 1 ? b : a);
        }
        return v.affine(out, 0, GraphKernels.broadcastStrides(in, r), n.where);
    }

    private static int[] shapeFrom(Node n, IntTensor shape) {
        if (shape.rank() != 1) {
            throw n.fail("its shape input should be 1-D, got " + Tensor.format(shape.shape()));
        }
        int[] out = new int[shape.numel()];
        for (int i = 0; i < out.length; i++) {
            long d = shape.data()[i];
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw n.fail("shape " + Arrays.toString(shape.data()) + " has dimension " + d);
            }
            out[i] = (int) d;
        }
        Value.checkedNumel(out, n.where);
        return out;
    }

    private static Value constantOfShape(Node n, IntTensor shape, Path dir, String file) {
        int[] out = shapeFrom(n, shape);
        int count = (int) Tensor.numel(out);
        TensorProto value = n.getTensor("value");
        Value fill = value == null ? Value.of(Tensor.of(new float[1], 1))
                : TensorData.decode(value, dir, file, n.label + " value");
        if (fill.numel() != 1) {
            throw new FormatException(n.where + ": its value should hold one element, it holds " + fill.numel());
        }
        return fill.gather(new int[count], out);
    }

    private static Value constantFill(Node n, Value input) {
        int[] shape;
        if (input != null && n.getInt("input_as_shape", 0) != 0) {
            if (!(input instanceof Value.Ints i)) {
                throw n.fail("its shape input is a float tensor");
            }
            shape = shapeFrom(n, i.tensor());
        } else if (input != null) {
            shape = input.shape();
        } else {
            long[] s = n.getInts("shape");
            shape = shapeFrom(n, IntTensor.of(s == null ? new long[0] : s, s == null ? 0 : s.length));
        }
        long[] extra = n.getInts("extra_shape");
        if (extra != null) {
            long[] all = new long[shape.length + extra.length];
            for (int i = 0; i < shape.length; i++) {
                all[i] = shape[i];
            }
            System.arraycopy(extra, 0, all, shape.length, extra.length);
            shape = shapeFrom(n, IntTensor.of(all, all.length));
        }
        ElementType type = ElementType.ofOnnx((int) Math.max(0, Math.min(100, n.getInt("dtype", 1))));
        if (type == null) {
            throw new FormatException(n.where + " fills " + ElementType.onnxName((int) n.getInt("dtype", 1))
                    + "; clrnn fills float and integer tensors");
        }
        float value = n.getFloat("value", 0);
        int count = Value.checkedNumel(shape, n.where);
        if (type.isFloat()) {
            float[] data = new float[count];
            Arrays.fill(data, value);
            return Value.of(Tensor.of(data, shape));
        }
        long[] data = new long[count];
        Arrays.fill(data, type.wrap((long) value));
        return Value.of(IntTensor.of(data, shape));
    }

}
