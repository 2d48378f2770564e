package io.clrnn.onnx;

import io.clrnn.model.Direction;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Whether a graph can be fed a chunk of steps at a time ({@link OnnxStream}): each output at step t may depend on
 * steps up to t only. A recurrent node that walks backwards (reverse, bidirectional) sees the steps to come; so does
 * an operator that reduces over the time axis (a mean over time, a softmax over steps). The time axis of each
 * recurrent node's Y is followed through the operators that move it in known ways (Transpose, Squeeze, Unsqueeze,
 * elementwise operators, MatMul, Slice, Concat); where an operator reshapes it beyond knowing (Reshape, Flatten), the
 * trail ends and what follows is taken as it is.
 */
final class StreamCheck {
    private static final Set<String> REDUCTIONS = Set.of("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
            "ReduceSumSquare", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ArgMax",
            "ArgMin", "Softmax", "LogSoftmax", "Hardmax", "CumSum", "LayerNormalization");
    /** Operators whose output has their first input's axes, in order (elementwise, broadcasting on the right). */
    private static final Set<String> SAME_AXES = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Relu", "Tanh", "Sigmoid",
            "LeakyRelu", "Elu", "Gelu", "Erf", "Softplus", "Clip", "Neg", "Abs", "Exp", "Log", "Sqrt", "Reciprocal",
            "Cast", "Dropout", "Identity", "Where", "Equal", "Slice", "Concat", "Selu", "HardSigmoid", "Softsign",
            "Mish", "PRelu");

    private StreamCheck() {}

    /** The time axis of a value and its rank. */
    private record Axis(int time, int rank) {}

    /** Why the graph cannot be streamed, in one line naming the node; null when it can. */
    static String refusal(String file, List<Node> program, Map<Node, Recurrent> recurrent,
            Function<String, Value> constant, long opset) {
        if (recurrent.isEmpty()) {
            return file + ": the graph has no recurrent node, so there is no state to carry; run it whole instead";
        }
        Map<String, Axis> time = new HashMap<>();
        for (Node n : program) {
            Recurrent r = recurrent.get(n);
            if (r != null) {
                if (r.direction != Direction.FORWARD) {
                    return n.where + " runs " + r.direction.name().toLowerCase(java.util.Locale.ROOT) + ": its outputs "
                            + "depend on the steps to come, so the graph cannot be fed a chunk at a time";
                }
                if (r.layout != 0) {
                    return n.where + " has layout 1; a stream takes layout 0 (what torch.onnx.export writes)";
                }
                if (!n.output(0).isEmpty()) {
                    time.put(n.output(0), new Axis(0, 4)); // Y: (seq, D, batch, H)
                }
                continue;
            }
            Axis in = null;
            int slot = -1;
            for (int i = 0; i < n.inputs.size() && in == null; i++) {
                in = time.get(n.inputs.get(i));
                slot = i;
            }
            if (in == null) {
                continue;
            }
            if (REDUCTIONS.contains(n.opType) && reducesTime(n, in, constant, opset)) {
                return n.where + " reduces over the time axis: its output depends on the steps to come, so the graph "
                        + "cannot be fed a chunk at a time";
            }
            Axis out = follow(n, in, slot, constant);
            if (out != null && !n.output(0).isEmpty()) {
                time.put(n.output(0), out);
            }
        }
        return null;
    }

    private static boolean reducesTime(Node n, Axis in, Function<String, Value> constant, long opset) {
        return switch (n.opType) {
            case "ArgMax", "ArgMin", "CumSum" -> n.opType.equals("CumSum")
                    ? axisInput(n, 1, constant) == null || contains(axisInput(n, 1, constant), in)
                    : normal(n.getInt("axis", 0), in.rank) == in.time;
            case "Softmax", "LogSoftmax", "Hardmax" -> {
                yield opset < 13 ? normal(n.getInt("axis", 1), in.rank) <= in.time // pre-13: the axes from axis on
                        : normal(n.getInt("axis", -1), in.rank) == in.time;
            }
            case "LayerNormalization" -> normal(n.getInt("axis", -1), in.rank) <= in.time;
            default -> {
                long[] axes = n.getInts("axes");
                if (axes == null && n.inputs.size() > 1) {
                    axes = axisInput(n, 1, constant);
                    if (axes == null) {
                        yield true; // axes computed at run time: any of them, the time axis too
                    }
                }
                yield axes == null ? n.getInt("noop_with_empty_axes", 0) == 0 : contains(axes, in);
            }
        };
    }

    /** Where the time axis is in {@code n}'s output, or null where the trail ends. */
    private static Axis follow(Node n, Axis in, int slot, Function<String, Value> constant) {
        if (SAME_AXES.contains(n.opType)) {
            return in;
        }
        switch (n.opType) {
            case "Transpose" -> {
                long[] perm = n.getInts("perm");
                if (perm != null && perm.length != in.rank) {
                    return null; // not a permutation of this rank: the run refuses it
                }
                for (int j = 0; j < in.rank; j++) {
                    if ((perm == null ? in.rank - 1 - j : perm[j]) == in.time) {
                        return new Axis(j, in.rank);
                    }
                }
                return null;
            }
            case "Squeeze" -> {
                long[] axes = n.has("axes") ? n.getInts("axes") : axisInput(n, 1, constant);
                if (axes == null) {
                    return null; // every axis of size 1: which, only the run knows
                }
                int t = in.time;
                for (long a : axes) {
                    int d = normal(a, in.rank);
                    if (d == in.time) {
                        return null;
                    }
                    t -= d < in.time ? 1 : 0;
                }
                return new Axis(t, in.rank - axes.length);
            }
            case "Unsqueeze" -> {
                long[] axes = n.has("axes") ? n.getInts("axes") : axisInput(n, 1, constant);
                if (axes == null) {
                    return null;
                }
                int rank = in.rank + axes.length;
                long[] sorted = java.util.Arrays.stream(axes).map(a -> normal(a, rank)).sorted().toArray();
                int t = in.time;
                for (long a : sorted) {
                    t += a <= t ? 1 : 0;
                }
                return new Axis(t, rank);
            }
            case "MatMul", "Gemm" -> {
                // rows stay rows: every axis of A but its last
                boolean transA = n.opType.equals("Gemm") && n.getInt("transA", 0) != 0;
                return slot == 0 && !transA && in.time < in.rank - 1 ? in : null;
            }
            default -> {
                return null;
            }
        }
    }

    private static long[] axisInput(Node n, int i, Function<String, Value> constant) {
        if (!n.hasInput(i)) {
            return null;
        }
        return constant.apply(n.input(i)) instanceof Value.Ints ints ? ints.tensor().data() : null;
    }

    private static boolean contains(long[] axes, Axis in) {
        for (long a : axes) {
            if (normal(a, in.rank) == in.time) {
                return true;
            }
        }
        return false;
    }

    private static int normal(long axis, int rank) {
        return (int) (axis < 0 ? axis + rank : axis);
    }
}
