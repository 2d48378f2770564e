package io.clrnn.onnx;

import io.clrnn.base.InvalidInputException;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.engine.RnnEngine;
import io.clrnn.format.ElementType;
import io.clrnn.format.FormatException;
import io.clrnn.model.RnnWeights;
import io.clrnn.onnx.OnnxModel.Port;
import io.clrnn.onnx.OnnxModel.Role;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An {@link OnnxModel} on one OpenCL device: one engine per recurrent node, made when the session opens
 * (or, for a node whose weights are graph inputs, at the first run and again only when they change), kept
 * for every run. Safe to share between threads: runs go one at a time. Closing it frees its device memory;
 * the device stays open.
 */
public final class OnnxSession implements AutoCloseable {
    /** The family a profile sums the graph's own operators by ({@link io.clrnn.device.Profile#nanosByFamily}). */
    public static final String OPERATORS = "operators";

    private final OnnxModel model;
    private final Device device;
    private final Map<Recurrent, Slot> engines = new HashMap<>();
    /** The device side of the operators around the recurrent nodes, and the pool their tensors come from. */
    private final GraphKernels kernels;
    /** Float constants some device operator read, uploaded once. */
    private final Map<String, Value> uploaded = new HashMap<>();
    /** Values computed once at open: nodes whose inputs are all constants. */
    private final Map<String, Value> folded = new HashMap<>();
    /** The nodes each run evaluates (those not folded), and for each the values it is the last to read. */
    private final List<Node> program;
    private final List<List<String>> lastReadBy = new java.util.ArrayList<>();
    /**
     * Dense heads (MatMul or Gemm on a constant weight) and what they absorb: a following Add of a constant
     * bias and a following activation, each the only reader of what it takes. The absorbed nodes are skipped;
     * the head writes the last one's output.
     */
    private record Head(Node head, Node add, Tensor bias, Node act) {
        /** The output of the last node the head absorbed: what it writes. */
        String output() {
            return (act != null ? act : add != null ? add : head).output(0);
        }
    }

    private final Map<Node, Head> heads = new HashMap<>();

    /**
     * Layer normalisations that older exports (opset before 17) write out as nine nodes: ReduceMean, Sub, Pow 2,
     * ReduceMean, Add eps, Sqrt, Div, Mul by the scale, Add the bias. Run as one LayerNormalization over the last
     * axis, from the first node; {@code chain} is every node of the pattern, in order.
     */
    private record Norm(List<Node> chain, float epsilon, Tensor scale, Tensor bias) {
        String output() {
            return chain.get(chain.size() - 1).output(0);
        }
    }

    private final Map<Node, Norm> norms = new HashMap<>();

    /**
     * Bidirectional nodes whose Y goes only to the Transpose (perm 0, 2, 1, 3) that torch.onnx.export writes after
     * them: the engine writes that Transpose's output, (seq, batch, 2, H), which is its own row order, at once.
     */
    private final Map<Node, Node> transposedY = new HashMap<>();
    private final java.util.Set<Node> absorbed = new java.util.HashSet<>();
    /** Constants prepared for one kernel, kept on the device: a dense head's packed weight, by its node; a norm's scale and bias. */
    private final Map<Object, DeviceTensor> packed = new HashMap<>();
    /** Values no node reads and no graph output is: a recurrent node need not write its Y_h or Y_c there. */
    private final java.util.Set<String> unread = new java.util.HashSet<>();
    /**
     * Nodes whose work only becomes recurrent nodes' initial_h and initial_c (the zeros torch.onnx.export computes from
     * the input's batch size, say): a stream's chunks after its first carry the states instead, and skip them.
     */
    private final java.util.Set<Node> stateOnly = new java.util.HashSet<>();
    /** Graph inputs that some node other than a recurrent one reads. */
    private final java.util.Set<String> feedsOperators = new java.util.HashSet<>();
    private boolean closed;
    /** Where the run in progress records its time; null for none. */
    private io.clrnn.device.Profile profile;
    /** The stream whose chunk the run in progress is; null for a whole run. */
    private OnnxStream stream;

    /** An engine and, for weights given at run time, the W, R, B and P it was made from. */
    private record Slot(RnnEngine engine, Value[] source) {}

    OnnxSession(OnnxModel model, Device device) {
        this.model = model;
        this.device = device;
        this.kernels = new GraphKernels(device);
        try {
            model.fixedWeights.forEach((r, w) -> engines.put(r, new Slot(new RnnEngine(device, w), null)));
            this.program = foldConstants();
            Map<String, List<Node>> readers = new HashMap<>();
            Map<String, Integer> lastUse = new HashMap<>();
            for (int i = 0; i < program.size(); i++) {
                Node n = program.get(i);
                lastReadBy.add(new java.util.ArrayList<>());
                for (String in : new java.util.LinkedHashSet<>(n.inputs)) {
                    if (in.isEmpty()) {
                        continue;
                    }
                    lastUse.put(in, i);
                    readers.computeIfAbsent(in, k -> new java.util.ArrayList<>()).add(n);
                    if (!model.recurrent.containsKey(n)) {
                        feedsOperators.add(in);
                    }
                }
            }
            model.outputs().forEach(p -> lastUse.remove(p.name())); // read back at the end of the run
            lastUse.forEach((name, i) -> lastReadBy.get(i).add(name));
            java.util.Set<String> outputs = new java.util.HashSet<>();
            model.outputs().forEach(p -> outputs.add(p.name()));
            for (Node n : program) {
                for (String out : n.outputs) {
                    if (!out.isEmpty() && !readers.containsKey(out) && !outputs.contains(out)) {
                        unread.add(out);
                    }
                }
            }
            planStateOnly(readers, outputs);
            planHeads(readers, outputs);
            planNorms(readers, outputs);
            planTransposedY(readers, outputs);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public OnnxModel model() {
        return model;
    }

    public Device device() {
        return device;
    }

    /**
     * The most device memory the graph's tensors held at once, in bytes, over the runs so far: the constants its
     * operators read included, the recurrent nodes' weights and workspaces not.
     */
    public synchronized long peakTensorBytes() {
        return kernels.pool.peakBytes();
    }

    /** Runs the graph on float inputs by name; returns every graph output by name, in the model's order. */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        return run(inputs, Map.of());
    }

    /**
     * Runs the graph on float inputs and integer inputs (a recurrent node's sequence_lens, say) by name. Every
     * graph input must be given, in the element kind and the shape the model declares (symbolic dims take any
     * size). Returns every graph output by name, in the model's order; an integer output comes back as floats.
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs, Map<String, IntTensor> intInputs) {
        return run(inputs, intInputs, null);
    }

    /** {@link #run(Map, Map)}, recording device and host time in {@code profile} (null for none). */
    public Map<String, Tensor> run(Map<String, Tensor> inputs, Map<String, IntTensor> intInputs,
            io.clrnn.device.Profile profile) {
        return run(inputs, intInputs, profile, null);
    }

    /**
     * A stream of {@code batch} sequences through the graph, fed a chunk of steps at a time, each recurrent node's
     * state carried on the device from chunk to chunk ({@link OnnxStream}). Refused, in one line naming the node,
     * for a graph whose outputs depend on the steps to come: a reverse or bidirectional node, or an operator that
     * reduces over the time axis.
     */
    public synchronized OnnxStream stream(int batch) {
        if (closed) {
            throw new IllegalStateException("this ONNX session is closed");
        }
        if (batch <= 0) {
            throw new InvalidInputException("a stream holds 1 or more sequences, not " + batch);
        }
        String why = model.streamRefusal();
        if (why != null) {
            throw new InvalidInputException(why);
        }
        return new OnnxStream(this, batch);
    }

    /** A run; a chunk of {@code stream}'s when not null. */
    synchronized Map<String, Tensor> run(Map<String, Tensor> inputs, Map<String, IntTensor> intInputs,
            io.clrnn.device.Profile profile, OnnxStream stream) {
        if (closed) {
            throw new IllegalStateException("this ONNX session is closed");
        }
        Map<String, Value> values = new HashMap<>(model.constants);
        values.putAll(folded);
        values.putAll(uploaded);
        this.profile = profile;
        this.stream = stream;
        kernels.profile(profile);
        try {
            feed(values, inputs, intInputs);
            boolean carried = stream != null && stream.carries();
            for (int i = 0; i < program.size(); i++) {
                Node n = program.get(i);
                if (carried && stateOnly.contains(n)) {
                    continue;
                }
                evaluate(n, values);
                for (String in : lastReadBy.get(i)) {
                    if (values.get(in) instanceof Value.OnDevice d && !uploaded.containsKey(in)
                            && !folded.containsKey(in)) {
                        d.tensor().block().release(); // its last reader is enqueued: the block may serve the next node
                    }
                }
            }
            Map<String, Tensor> result = new LinkedHashMap<>();
            for (Port p : model.outputs()) {
                result.put(p.name(), Value.toFloats(values.get(p.name())));
            }
            return result;
        } finally {
            kernels.settle();
            kernels.pool.recycle();
            kernels.profile(null);
            this.profile = null;
            this.stream = null;
        }
    }

    /** Runs one node on {@code values}, adding its outputs. */
    private void evaluate(Node n, Map<String, Value> values) {
        kernels.owner(n);
        Value[] in = new Value[n.inputs.size()];
        for (int i = 0; i < in.length; i++) {
            in[i] = n.inputs.get(i).isEmpty() ? null : values.get(n.inputs.get(i));
        }
        Value[] out;
        Recurrent r = model.recurrent.get(n);
        Head head = heads.get(n);
        Norm norm = norms.get(n);
        if (absorbed.contains(n)) {
            return; // its head wrote its output
        } else if (norm != null) {
            Value x = in[0];
            int[] shape = x.shape();
            if (x instanceof Value.Ints || shape.length == 0 || shape[shape.length - 1] != norm.scale.numel()) {
                norms.remove(n); // not what the pattern expects: node by node, as written
                absorbed.removeAll(norm.chain);
                try {
                    for (Node c : norm.chain) {
                        evaluate(c, values);
                    }
                } finally {
                    norms.put(n, norm);
                    absorbed.addAll(norm.chain.subList(1, norm.chain.size()));
                }
                return;
            }
            DeviceTensor scale = packed.computeIfAbsent(norm.scale, t -> pinned(norm.scale));
            DeviceTensor bias = norm.bias == null ? null : packed.computeIfAbsent(norm.bias, t -> pinned(norm.bias));
            int width = shape[shape.length - 1];
            put(values, norm.output(), new Value.OnDevice(kernels.layerNorm(args(n, in, values).device(0),
                    x.numel() / Math.max(1, width), width, norm.epsilon, scale, bias), kernels));
            return;
        } else if (head != null) {
            put(values, head.output(), Operators.dense(n, args(n, in, values), head.bias, head.act, packed));
            return;
        } else if (r != null) {
            Node transpose = transposedY.get(n);
            RnnEngine engine = engine(r, in);
            io.clrnn.engine.StateBuffers state = stream == null ? null
                    : stream.state(n, engine, in[0], arg(in, 5), arg(in, 6));
            out = r.forward(engine, in[0], arg(in, 4), arg(in, 5), arg(in, 6), transpose != null,
                    wanted(n.output(1)), wanted(n.output(2)), state, profile);
            if (transpose != null) {
                put(values, transpose.output(0), out[0]); // Y itself is read by nothing else
                out[0] = null;
            }
        } else if (Operators.OPS.containsKey(n.opType)) {
            out = Operators.run(n, args(n, in, values), model.opset);
        } else {
            if (n.opType.equals("Gather") && in[0] instanceof Value.Floats) {
                in[0] = new Value.OnDevice(args(n, in, values).device(0), kernels); // an embedding lookup
            }
            out = new Value[] {HostOperators.run(n, in, model.opset, model.dir, model.file)};
        }
        for (int i = 0; i < n.outputs.size() && i < out.length; i++) {
            if (!n.outputs.get(i).isEmpty() && out[i] != null) {
                put(values, n.outputs.get(i), out[i]);
            }
        }
    }

    /** Whether a node's output {@code name} is read by something: a node, or the caller as a graph output. */
    private boolean wanted(String name) {
        return !name.isEmpty() && !unread.contains(name);
    }

    /** Names {@code v}; a device tensor's block is held for as long as the name lives. */
    private static void put(Map<String, Value> values, String name, Value v) {
        values.put(name, v);
        if (v instanceof Value.OnDevice d) {
            d.tensor().block().hold();
        }
    }

    /** Finds the nodes whose outputs only ever reach initial_h and initial_c slots (see {@link #stateOnly}). */
    private void planStateOnly(Map<String, List<Node>> readers, java.util.Set<String> outputs) {
        for (int i = program.size() - 1; i >= 0; i--) {
            Node n = program.get(i);
            if (model.recurrent.containsKey(n)) {
                continue;
            }
            boolean only = !n.outputs.isEmpty();
            for (String out : n.outputs) {
                if (out.isEmpty()) {
                    continue;
                }
                if (outputs.contains(out)) {
                    only = false;
                }
                for (Node r : readers.getOrDefault(out, List.of())) {
                    boolean initialState = model.recurrent.containsKey(r);
                    for (int slot = 0; slot < r.inputs.size() && initialState; slot++) {
                        initialState = !r.inputs.get(slot).equals(out) || slot == 5 || slot == 6;
                    }
                    only &= initialState || stateOnly.contains(r);
                }
            }
            if (only) {
                stateOnly.add(n);
            }
        }
    }

    /** Finds the dense heads and the Add and activation each absorbs (see {@link Head}). */
    private void planHeads(Map<String, List<Node>> readers, java.util.Set<String> outputs) {
        java.util.function.Function<String, Value> constant = name -> model.constants.get(name);
        for (Node n : program) {
            if (!Operators.isDenseHead(n, constant)) {
                continue;
            }
            Value w = model.constants.get(n.input(1));
            int cols = n.opType.equals("Gemm") && n.getInt("transB", 0) != 0 ? w.shape()[0] : w.shape()[1];
            Node add = null;
            Tensor bias = null;
            Node next = onlyReader(n.output(0), readers, outputs);
            if (n.opType.equals("MatMul") && next != null && next.opType.equals("Add")
                    && model.constants.get(other(next, n.output(0))) instanceof Value.Floats b
                    && Operators.isBiasOf(b.tensor(), cols) && b.shape().length <= w.shape().length) {
                add = next;
                bias = b.tensor();
                next = onlyReader(add.output(0), readers, outputs);
            }
            Node act = next != null && Operators.HEAD_ACTIVATIONS.containsKey(next.opType) ? next : null;
            heads.put(n, new Head(n, add, bias, act));
            if (add != null) {
                absorbed.add(add);
            }
            if (act != null) {
                absorbed.add(act);
            }
        }
    }

    /** Finds the layer normalisations written out node by node (see {@link Norm}). */
    private void planNorms(Map<String, List<Node>> readers, java.util.Set<String> outputs) {
        for (Node mean : program) {
            if (!lastAxisMean(mean) || absorbed.contains(mean)) {
                continue;
            }
            String x = mean.input(0);
            Node sub = onlyReader(mean.output(0), readers, outputs);
            if (sub == null || !sub.opType.equals("Sub") || !sub.input(0).equals(x)
                    || !sub.input(1).equals(mean.output(0))) {
                continue;
            }
            List<Node> ofD = readers.getOrDefault(sub.output(0), List.of());
            if (ofD.size() != 2 || outputs.contains(sub.output(0))) {
                continue;
            }
            Node pow = ofD.stream().filter(n -> n.opType.equals("Pow")).findFirst().orElse(null);
            Node div = ofD.stream().filter(n -> n.opType.equals("Div")).findFirst().orElse(null);
            if (pow == null || div == null || !pow.input(0).equals(sub.output(0)) || scalar(pow.input(1)) != 2f
                    || !div.input(0).equals(sub.output(0))) {
                continue;
            }
            Node var = onlyReader(pow.output(0), readers, outputs);
            Node add = var == null || !lastAxisMean(var) ? null : onlyReader(var.output(0), readers, outputs);
            if (add == null || !add.opType.equals("Add")) {
                continue;
            }
            float eps = scalar(add.input(0).equals(var.output(0)) ? add.input(1) : add.input(0));
            Node sqrt = onlyReader(add.output(0), readers, outputs);
            if (!(eps >= 0) || sqrt == null || !sqrt.opType.equals("Sqrt")
                    || onlyReader(sqrt.output(0), readers, outputs) != div || !div.input(1).equals(sqrt.output(0))) {
                continue;
            }
            Node mul = onlyReader(div.output(0), readers, outputs);
            Tensor scale = mul == null || !mul.opType.equals("Mul") ? null : row(other(mul, div.output(0)));
            if (scale == null) {
                continue;
            }
            List<Node> chain = new java.util.ArrayList<>(List.of(mean, sub, pow, var, add, sqrt, div, mul));
            Node addB = onlyReader(mul.output(0), readers, outputs);
            Tensor bias = addB == null || !addB.opType.equals("Add") ? null : row(other(addB, mul.output(0)));
            if (bias != null && bias.numel() == scale.numel()) {
                chain.add(addB);
            } else {
                bias = null;
            }
            norms.put(mean, new Norm(List.copyOf(chain), eps, scale, bias));
            absorbed.addAll(chain.subList(1, chain.size()));
        }
    }

    /** Finds the bidirectional nodes whose Y is transposed to (seq, batch, D, H) and nothing else. */
    private void planTransposedY(Map<String, List<Node>> readers, java.util.Set<String> outputs) {
        model.recurrent.forEach((n, r) -> {
            if (r.layout != 0 || r.direction.count() != 2 || !program.contains(n) || n.output(0).isEmpty()) {
                return;
            }
            Node t = onlyReader(n.output(0), readers, outputs);
            long[] perm = t == null || !t.opType.equals("Transpose") ? null : t.getInts("perm");
            if (perm != null && java.util.Arrays.equals(perm, new long[] {0, 2, 1, 3})) {
                transposedY.put(n, t);
                absorbed.add(t);
            }
        });
    }

    /** A ReduceMean over the last axis only, keeping it. */
    private boolean lastAxisMean(Node n) {
        if (!n.opType.equals("ReduceMean") || n.getInt("keepdims", 1) == 0) {
            return false;
        }
        long[] axes = model.opset < 18 ? n.getInts("axes") : model.constants.get(n.input(1)) instanceof Value.Ints i
                ? i.tensor().data() : null;
        return axes != null && axes.length == 1 && axes[0] == -1;
    }

    /** The one-element float constant of that name, or NaN. */
    private float scalar(String name) {
        return model.constants.get(name) instanceof Value.Floats f && f.numel() == 1 ? f.tensor().data()[0] : Float.NaN;
    }

    /** The 1-D float constant of that name, or null. */
    private Tensor row(String name) {
        return model.constants.get(name) instanceof Value.Floats f && f.shape().length == 1 ? f.tensor() : null;
    }

    /** The input of a two-input node that is not {@code name}. */
    private static String other(Node n, String name) {
        return n.input(0).equals(name) ? n.input(1) : n.input(0);
    }

    /** The one node that reads {@code name}, when it is not also a graph output; else null. */
    private static Node onlyReader(String name, Map<String, List<Node>> readers, java.util.Set<String> outputs) {
        List<Node> r = readers.getOrDefault(name, List.of());
        return r.size() == 1 && !outputs.contains(name) ? r.get(0) : null;
    }

    /** A constant on the device for the session's life. */
    private DeviceTensor pinned(Tensor t) {
        DeviceTensor d = kernels.upload(t);
        d.block().pin();
        return d;
    }

    /** A node's inputs for {@link Operators}: host floats go to the device when asked, constants once per session. */
    private Operators.Args args(Node n, Value[] in, Map<String, Value> values) {
        return new Operators.Args() {
            @Override
            public Value value(int i) {
                return i < in.length ? in[i] : null;
            }

            @Override
            public DeviceTensor device(int i) {
                Value v = in[i];
                if (v instanceof Value.OnDevice d) {
                    return d.tensor();
                }
                if (!(v instanceof Value.Floats f)) {
                    throw n.fail("input " + i + " is an integer tensor; " + n.opType + " takes floats here");
                }
                Value.OnDevice d = new Value.OnDevice(kernels.upload(f.tensor()), kernels);
                String name = n.inputs.get(i);
                d.tensor().block().hold();
                if (model.constants.containsKey(name)) {
                    d.tensor().block().pin();
                    uploaded.put(name, d);
                }
                values.put(name, d);
                in[i] = d;
                return d.tensor();
            }

            @Override
            public GraphKernels kernels() {
                return kernels;
            }
        };
    }

    /**
     * Evaluates, once, every node whose inputs are all constants (a weight transposed, a bias scaled); their
     * results stay on the device for the session. Returns the nodes left for each run.
     */
    private List<Node> foldConstants() {
        Map<String, Value> values = new HashMap<>(model.constants);
        List<Node> rest = new java.util.ArrayList<>();
        for (Node n : model.program) {
            boolean constant = !model.recurrent.containsKey(n);
            for (String in : n.inputs) {
                constant &= in.isEmpty() || values.containsKey(in);
            }
            if (!constant) {
                rest.add(n);
                continue;
            }
            evaluate(n, values);
            for (String out : n.outputs) {
                Value v = values.get(out);
                if (v != null) {
                    if (v instanceof Value.OnDevice d) {
                        d.tensor().block().pin();
                    }
                    folded.put(out, v);
                }
            }
        }
        return List.copyOf(rest);
    }

    private static Value onHost(Value v) {
        return v == null ? null : Value.onHost(v);
    }

    private static Value arg(Value[] in, int i) {
        return i < in.length ? in[i] : null;
    }

    private void feed(Map<String, Value> values, Map<String, Tensor> floats, Map<String, IntTensor> ints) {
        Map<String, Value> given = new LinkedHashMap<>();
        floats.forEach((name, t) -> given.put(name, t == null ? null : Value.of(t)));
        ints.forEach((name, t) -> {
            if (given.put(name, t == null ? null : Value.of(t)) != null) {
                throw new InvalidInputException("input " + FormatException.quote(name) + " is given twice, as floats and as ints");
            }
        });
        List<String> names = model.inputs().stream().map(Port::name).toList();
        for (Map.Entry<String, Value> e : given.entrySet()) {
            String name = e.getKey();
            if (!model.inputTypes.containsKey(name)) {
                throw new InvalidInputException(model.file + " has no input " + FormatException.quote(name)
                        + (model.constants.containsKey(name) ? " (it is an initializer, part of the model)" : "")
                        + "; its inputs are " + names.stream().map(FormatException::quote).toList());
            }
            if (e.getValue() == null) {
                throw new InvalidInputException("input " + FormatException.quote(name) + " is null");
            }
            check(name, e.getValue());
            Value v = e.getValue();
            if (v instanceof Value.Floats f && feedsOperators.contains(name)) {
                // read by the graph's operators: on the device from the start, so they never come back to the host
                DeviceTensor d = kernels.upload(f.tensor());
                d.block().hold();
                v = new Value.OnDevice(d, kernels);
            }
            values.put(name, v);
        }
        for (Port p : model.inputs()) {
            if (!given.containsKey(p.name())) {
                throw new InvalidInputException(model.file + " needs input " + FormatException.quote(p.name()) + " (" + p.type()
                        + " " + p.shape() + (p.roles().isEmpty() ? "" : ", " + p.roles().stream()
                        .map(Role::onnxName).toList()) + ")");
            }
        }
    }

    private void check(String name, Value v) {
        ElementType type = ElementType.ofOnnx(model.inputTypes.get(name).getElemType());
        if (type.isFloat() != (v instanceof Value.Floats)) {
            throw new InvalidInputException("input " + FormatException.quote(name) + " is " + type.dtype() + " in the model; give "
                    + (type.isFloat() ? "a float Tensor" : "an IntTensor") + ", not " + (type.isFloat() ? "integers"
                    : "floats"));
        }
        long[] want = model.declaredDims(name);
        if (want == null) {
            return;
        }
        int[] got = v.shape();
        boolean fits = want.length == got.length;
        for (int i = 0; fits && i < got.length; i++) {
            fits = want[i] < 0 || want[i] == got[i];
        }
        if (!fits) {
            throw new InvalidInputException("input " + FormatException.quote(name) + " has shape " + Tensor.format(got)
                    + "; the model takes " + OnnxModel.format(want) + (Arrays.stream(want).allMatch(d -> d >= 0)
                    ? " (exported with fixed sizes: torch.onnx.export's dynamic_axes lets them vary)" : ""));
        }
    }

    /** The node's engine: made at open for constant weights, else made now and kept while the weights stay the same. */
    private RnnEngine engine(Recurrent r, Value[] in) {
        Slot slot = engines.get(r);
        if (slot != null && slot.source == null) {
            return slot.engine;
        }
        Value[] source = {onHost(in[1]), onHost(in[2]), onHost(arg(in, 3)), onHost(arg(in, 7))};
        if (slot != null && sameValues(slot.source, source)) {
            return slot.engine;
        }
        RnnWeights w = r.weights(source[0], source[1], source[2], source[3]);
        if (slot != null) {
            engines.remove(r);
            slot.engine.close();
        }
        RnnEngine engine = new RnnEngine(device, w);
        engines.put(r, new Slot(engine, copies(source)));
        return engine;
    }

    private static Value[] copies(Value[] values) {
        Value[] out = new Value[values.length];
        for (int i = 0; i < values.length; i++) {
            if (values[i] instanceof Value.Floats f) {
                out[i] = Value.of(Tensor.of(f.tensor().data().clone(), f.shape()));
            } else if (values[i] instanceof Value.Ints t) {
                out[i] = Value.of(IntTensor.of(t.tensor().data().clone(), t.shape()));
            }
        }
        return out;
    }

    private static boolean sameValues(Value[] a, Value[] b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == null || b[i] == null) {
                if (a[i] != b[i]) {
                    return false;
                }
                continue;
            }
            if (!Arrays.equals(a[i].shape(), b[i].shape()) || !a[i].kind().equals(b[i].kind())) {
                return false;
            }
            boolean same = a[i] instanceof Value.Floats fa
                    ? Arrays.equals(fa.tensor().data(), ((Value.Floats) b[i]).tensor().data())
                    : Arrays.equals(((Value.Ints) a[i]).tensor().data(), ((Value.Ints) b[i]).tensor().data());
            if (!same) {
                return false;
            }
        }
        return true;
    }

    @Override
    public synchronized void close() {
        closed = true;
        RuntimeException first = null;
        for (Slot s : engines.values()) {
            try {
                s.engine.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        engines.clear();
        if (kernels != null) {
            kernels.close();
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "OnnxSession(" + model + " on " + device + ")";
    }
}
