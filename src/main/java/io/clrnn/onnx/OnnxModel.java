package io.clrnn.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.format.AtomicFiles;
import io.clrnn.format.ElementType;
import io.clrnn.format.FormatException;
import io.clrnn.model.RnnWeights;
import io.clrnn.onnx.proto.FunctionProto;
import io.clrnn.onnx.proto.GraphProto;
import io.clrnn.onnx.proto.ModelProto;
import io.clrnn.onnx.proto.NodeProto;
import io.clrnn.onnx.proto.OperatorSetIdProto;
import io.clrnn.onnx.proto.TensorProto;
import io.clrnn.onnx.proto.TensorShapeProto;
import io.clrnn.onnx.proto.TypeProto;
import io.clrnn.onnx.proto.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * An ONNX model whose work is RNN, GRU and LSTM nodes (opset 7 to 22), with the glue torch.onnx.export puts
 * around them. Loading reads and checks the whole graph, decodes the initializers, folds every node whose
 * inputs are all constant, and reorders constant recurrent weights once; {@link #open} puts the model on a
 * device. Immutable: one model may serve several sessions.
 *
 * <pre>{@code
 * OnnxModel model = OnnxModel.load(Path.of("lstm.onnx"));
 * try (OnnxSession session = model.open(device)) {
 *     Map<String, Tensor> out = session.run(Map.of("input", x));
 * }
 * }</pre>
 */
public final class OnnxModel {
    /** The opsets whose RNN, GRU and LSTM clrnn runs: 7 (the first of their current form) to 22. */
    public static final int MIN_OPSET = 7;
    public static final int MAX_OPSET = 22;
    private static final Set<String> RECURRENT = Set.of("RNN", "GRU", "LSTM");

    /** What a graph input feeds, or a graph output comes from: a recurrent node's input or output, by ONNX's name. */
    public enum Role {
        X("X"), W("W"), R("R"), B("B"), SEQUENCE_LENS("sequence_lens"), INITIAL_H("initial_h"),
        INITIAL_C("initial_c"), P("P"), Y("Y"), Y_H("Y_h"), Y_C("Y_c");

        private final String onnxName;

        Role(String onnxName) {
            this.onnxName = onnxName;
        }

        public String onnxName() {
            return onnxName;
        }
    }

    /**
     * A graph input or output: its name, element type ({@code float32}, {@code int64}...), dims as the model
     * declares them (a number, a symbolic name, or {@code ?}; null when it gives no shape), and the recurrent
     * inputs it becomes (for a graph input) or the recurrent outputs it comes from (for a graph output), traced
     * through the glue.
     */
    public record Port(String name, String type, List<String> dims, Set<Role> roles) {
        public Port {
            dims = dims == null ? null : List.copyOf(dims);
            roles = Collections.unmodifiableSet(roles.isEmpty() ? EnumSet.noneOf(Role.class) : EnumSet.copyOf(roles));
        }

        /** {@code [2, batch, 3]}, or {@code ?} for a tensor whose rank the model does not say. */
        public String shape() {
            return dims == null ? "?" : "[" + String.join(", ", dims) + "]";
        }

        /** Whether the element type is floating-point: a float {@link Tensor} feeds it, not an {@link IntTensor}. */
        public boolean isFloat() {
            ElementType t = ElementType.ofDtype(type);
            return t != null && t.isFloat();
        }
    }

    /**
     * Elements all folded constants together may hold, initializers and Constant nodes (the file's own data) not
     * counted: 2^24. Folding computes shapes, masks and indices, thousands of elements in the networks people export,
     * never millions.
     */
    static final long FOLD_BUDGET = 1L << 24;
    final String file;
    /** The model's folder, where its external data lives; null for a model loaded from memory. */
    final Path dir;
    final int opset;
    private final long irVersion;
    private final String producer;
    private final List<Port> inputs;
    private final List<Port> outputs;
    /** Declared element type and dims of each graph input, for checking what a run is given. */
    final Map<String, TypeProto.Tensor> inputTypes;
    /** Initializers and the outputs of folded nodes. */
    final Map<String, Value> constants;
    /** The nodes a run evaluates, in an order that respects their dependencies. */
    final List<Node> program;
    final Map<Node, Recurrent> recurrent;
    /** Weights of recurrent nodes whose W, R, B and P are all constant, in PyTorch's layout. */
    final Map<Recurrent, RnnWeights> fixedWeights;
    private final int glueNodes;

    private OnnxModel(ModelProto model, Path dir, String file) {
        this.file = file;
        this.dir = dir;
        this.irVersion = model.getIrVersion();
        this.producer = (model.getProducerName() + " " + model.getProducerVersion()).trim();
        this.opset = defaultOpset(model, file);
        if (!model.hasGraph()) {
            throw new FormatException(file + ": the model has no graph");
        }
        GraphProto g = model.getGraph();
        if (g.getSparseInitializerCount() > 0) {
            throw new FormatException(file + ": the graph has sparse initializers, which clrnn does not read");
        }
        Set<String> functions = new HashSet<>();
        for (FunctionProto f : model.getFunctionsList()) {
            functions.add(f.getName());
        }

        // Initializers: decoded now, so that a lying size or a bad external path is refused at load.
        Map<String, Value> consts = new LinkedHashMap<>();
        for (TensorProto t : g.getInitializerList()) {
            String name = t.getName();
            if (name.isEmpty()) {
                throw new FormatException(file + ": an initializer has no name");
            }
            if (consts.put(name, TensorData.decode(t, dir, file, "initializer " + FormatException.quote(name))) != null) {
                throw new FormatException(file + ": initializer " + FormatException.quote(name) + " is defined twice");
            }
        }

        // Graph inputs: those with an initializer are the initializer's declaration (IR version 3), not inputs.
        Map<String, TypeProto.Tensor> types = new LinkedHashMap<>();
        for (ValueInfoProto v : g.getInputList()) {
            if (consts.containsKey(v.getName())) {
                continue;
            }
            TypeProto.Tensor type = tensorType(v, "input");
            if (types.put(v.getName(), type) != null) {
                throw new FormatException(file + ": graph input " + FormatException.quote(v.getName()) + " is declared twice");
            }
        }
        this.inputTypes = Collections.unmodifiableMap(types);

        // Nodes: each operator known, its attributes and arity checked, every name written once.
        List<Node> nodes = new ArrayList<>();
        Map<String, Node> producers = new HashMap<>();
        Map<Node, Recurrent> rec = new LinkedHashMap<>();
        for (NodeProto p : g.getNodeList()) {
            Node n = new Node(nodes.size(), p, file);
            checkOperator(n, p.getDomain(), functions);
            if (RECURRENT.contains(n.opType)) {
                rec.put(n, new Recurrent(n));
            } else if (Operators.OPS.containsKey(n.opType)) {
                Operators.check(n, opset);
            } else {
                HostOperators.check(n, opset);
            }
            for (String out : n.outputs) {
                if (out.isEmpty()) {
                    continue;
                }
                if (producers.put(out, n) != null || consts.containsKey(out) || types.containsKey(out)) {
                    throw new FormatException(n.where + " writes " + FormatException.quote(out) + ", which is already defined");
                }
            }
            nodes.add(n);
        }
        for (Node n : nodes) {
            for (String in : n.inputs) {
                if (!in.isEmpty() && !producers.containsKey(in) && !consts.containsKey(in) && !types.containsKey(in)) {
                    throw new FormatException(n.where + " reads " + FormatException.quote(in)
                            + ", which no node, graph input or initializer defines");
                }
            }
        }

        // Outputs: each defined somewhere, with a tensor type.
        List<String> outputNames = new ArrayList<>();
        Map<String, TypeProto.Tensor> outputTypes = new LinkedHashMap<>();
        for (ValueInfoProto v : g.getOutputList()) {
            String name = v.getName();
            if (!producers.containsKey(name) && !consts.containsKey(name) && !types.containsKey(name)) {
                throw new FormatException(file + ": graph output " + FormatException.quote(name)
                        + " is not computed by any node, nor an input or initializer");
            }
            if (outputTypes.put(name, tensorType(v, "output")) != null) {
                throw new FormatException(file + ": graph output " + FormatException.quote(name) + " is declared twice");
            }
            outputNames.add(name);
        }
        if (outputNames.isEmpty()) {
            throw new FormatException(file + ": the graph has no outputs");
        }

        List<Node> order = topologicalOrder(nodes, producers, outputNames);
        this.recurrent = Collections.unmodifiableMap(rec);

        // Fold what is constant: glue whose inputs are all initializers or folded values.
        List<Node> rest = new ArrayList<>();
        long folded = 0;
        for (Node n : order) {
            boolean constant = HostOperators.OPS.containsKey(n.opType);
            for (String in : n.inputs) {
                constant &= in.isEmpty() || consts.containsKey(in);
            }
            if (constant) {
                Value[] args = new Value[n.inputs.size()];
                for (int i = 0; i < args.length; i++) {
                    args[i] = n.inputs.get(i).isEmpty() ? null : consts.get(n.inputs.get(i));
                }
                Value v = HostOperators.run(n, args, opset, dir, file);
                folded += n.opType.equals("Constant") ? 0 : v.numel(); // a Constant holds the file's own data
                if (folded > FOLD_BUDGET) {
                    // shape arithmetic is small; a graph whose constants keep doubling is an attack on the loader
                    throw n.fail("folds to a constant of " + v.numel() + " elements, and the graph's folded constants "
                            + "would hold more than " + FOLD_BUDGET + " elements in all");
                }
                consts.put(n.output(0), v);
            } else {
                rest.add(n);
            }
        }
        this.constants = Collections.unmodifiableMap(consts);
        this.program = List.copyOf(rest);
        this.glueNodes = (int) order.stream().filter(n -> !rec.containsKey(n)).count();

        // Constant recurrent weights: reordered once here, uploaded once per session.
        Map<Recurrent, RnnWeights> fixed = new LinkedHashMap<>();
        for (Node n : program) {
            Recurrent r = rec.get(n);
            if (r == null) {
                continue;
            }
            String w = r.input(Role.W);
            String rr = r.input(Role.R);
            String b = r.input(Role.B);
            String p = r.input(Role.P);
            if (consts.containsKey(w) && consts.containsKey(rr) && (b.isEmpty() || consts.containsKey(b))
                    && (p.isEmpty() || consts.containsKey(p))) {
                fixed.put(r, r.weights(consts.get(w), consts.get(rr), b.isEmpty() ? null : consts.get(b),
                        p.isEmpty() ? null : consts.get(p)));
            }
        }
        this.fixedWeights = Collections.unmodifiableMap(fixed);

        Map<String, Set<Role>> inRoles = inputRoles(order, rec, types.keySet());
        List<Port> ins = new ArrayList<>();
        types.forEach((name, type) -> ins.add(port(name, type, inRoles.getOrDefault(name, Set.of()))));
        this.inputs = List.copyOf(ins);
        List<Port> outs = new ArrayList<>();
        for (String name : outputNames) {
            outs.add(port(name, outputTypes.get(name), outputRoles(name, producers, rec)));
        }
        this.outputs = List.copyOf(outs);
    }

    /** Loads a model; its external data, if any, is read from beside it. */
    public static OnnxModel load(Path path) throws IOException {
        String name = String.valueOf(path.getFileName());
        byte[] bytes = AtomicFiles.readAll(path, size -> size + " bytes; an ONNX file holds at most 2 GiB (larger "
                + "models keep their weights as external data)");
        Path dir = path.toAbsolutePath().getParent();
        return new OnnxModel(parse(bytes, name), dir, name);
    }

    /** Loads a model from memory; {@code name} starts every message. External data is refused: it has no folder. */
    public static OnnxModel load(byte[] bytes, String name) {
        return new OnnxModel(parse(bytes, name), null, name);
    }

    static ModelProto parse(byte[] bytes, String name) {
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        in.setRecursionLimit(64);
        try {
            ModelProto model = ModelProto.parseFrom(in);
            checkWireTypes(model, name);
            return model;
        } catch (InvalidProtocolBufferException e) {
            throw new FormatException(name + ": not an ONNX model (a protobuf ModelProto): " + e.getMessage(), e);
        } catch (IOException e) { // CodedInputStream over an array reads no file: malformed data only
            throw new FormatException(name + ": not an ONNX model: " + e.getMessage(), e);
        }
    }

    /**
     * Protobuf keeps a known field that arrives with the wrong wire type (an int where a message belongs) as an
     * unknown field and carries on; ONNX has no use for such a file, so it is refused here, naming the field.
     */
    private static void checkWireTypes(Message m, String file) {
        Descriptors.Descriptor type = m.getDescriptorForType();
        for (int number : m.getUnknownFields().asMap().keySet()) {
            Descriptors.FieldDescriptor f = type.findFieldByNumber(number);
            if (f != null) {
                throw new FormatException(file + ": " + type.getName() + " field " + number + " (" + f.getName()
                        + ") has the wrong wire type: not an ONNX model");
            }
        }
        for (Map.Entry<Descriptors.FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            if (e.getKey().getJavaType() != Descriptors.FieldDescriptor.JavaType.MESSAGE) {
                continue;
            }
            if (e.getValue() instanceof List<?> list) {
                for (Object o : list) {
                    checkWireTypes((Message) o, file);
                }
            } else {
                checkWireTypes((Message) e.getValue(), file);
            }
        }
    }

    private static int defaultOpset(ModelProto model, String file) {
        Long version = null;
        for (OperatorSetIdProto o : model.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                if (version != null && version != o.getVersion()) {
                    throw new FormatException(file + ": the model imports the default opset twice");
                }
                version = o.getVersion();
            }
        }
        if (version == null) {
            throw new FormatException(file + ": the model imports no version of the default (ai.onnx) opset");
        }
        if (version < MIN_OPSET || version > MAX_OPSET) {
            throw new FormatException(file + ": the model uses opset " + version + "; clrnn runs opsets "
                    + MIN_OPSET + " to " + MAX_OPSET);
        }
        return version.intValue();
    }

    private void checkOperator(Node n, String domain, Set<String> functions) {
        boolean known = (domain.isEmpty() || domain.equals("ai.onnx"))
                && (RECURRENT.contains(n.opType) || HostOperators.OPS.containsKey(n.opType)
                || Operators.OPS.containsKey(n.opType));
        if (!known) {
            String what = functions.contains(n.opType) ? "a function defined in the model"
                    : domain.isEmpty() || domain.equals("ai.onnx") ? "an operator" : "an operator of domain "
                    + FormatException.quote(domain);
            throw new FormatException(file + ": " + n.label + " is " + what + " clrnn does not run; clrnn runs RNN, "
                    + "GRU and LSTM (opset " + MIN_OPSET + " to " + MAX_OPSET + ") and the " + (HostOperators.OPS.size()
                    + Operators.OPS.size()) + " operators around them that README's ONNX section lists");
        }
    }

    private TypeProto.Tensor tensorType(ValueInfoProto v, String what) {
        if (v.getName().isEmpty()) {
            throw new FormatException(file + ": a graph " + what + " has no name");
        }
        if (!v.hasType() || !v.getType().hasTensorType()) {
            throw new FormatException(file + ": graph " + what + " " + FormatException.quote(v.getName())
                    + " is not a tensor (clrnn reads tensors only)");
        }
        TypeProto.Tensor t = v.getType().getTensorType();
        if (ElementType.ofOnnx(t.getElemType()) == null) {
            throw new FormatException(file + ": graph " + what + " " + FormatException.quote(v.getName()) + " is "
                    + ElementType.onnxName(t.getElemType()) + "; clrnn takes float and integer tensors");
        }
        return t;
    }

    /**
     * Kahn's algorithm over the nodes the outputs need (others are never run); a node left over sits on a
     * cycle, which a graph must not have.
     */
    private List<Node> topologicalOrder(List<Node> nodes, Map<String, Node> producers, List<String> outputNames) {
        Set<Node> needed = new HashSet<>();
        Deque<String> todo = new ArrayDeque<>(outputNames);
        while (!todo.isEmpty()) {
            Node p = producers.get(todo.pop());
            if (p != null && needed.add(p)) {
                p.inputs.stream().filter(s -> !s.isEmpty()).forEach(todo::push);
            }
        }
        Map<Node, Integer> waiting = new HashMap<>();
        Map<Node, List<Node>> consumers = new HashMap<>();
        Deque<Node> ready = new ArrayDeque<>();
        for (Node n : nodes) {
            if (!needed.contains(n)) {
                continue;
            }
            int count = 0;
            for (String in : n.inputs) {
                Node p = producers.get(in);
                if (p != null) {
                    count++;
                    consumers.computeIfAbsent(p, k -> new ArrayList<>()).add(n);
                }
            }
            waiting.put(n, count);
            if (count == 0) {
                ready.add(n);
            }
        }
        List<Node> order = new ArrayList<>();
        while (!ready.isEmpty()) {
            Node n = ready.poll();
            order.add(n);
            for (Node c : consumers.getOrDefault(n, List.of())) {
                if (waiting.merge(c, -1, Integer::sum) == 0) {
                    ready.add(c);
                }
            }
        }
        if (order.size() != needed.size()) {
            Node stuck = nodes.stream().filter(n -> needed.contains(n) && !order.contains(n)).findFirst().orElseThrow();
            throw new FormatException(stuck.where + " depends on its own output: the graph has a cycle");
        }
        return order;
    }

    /** For each graph input, the recurrent inputs its data reaches through the glue (not through Shape). */
    private static Map<String, Set<Role>> inputRoles(List<Node> order, Map<Node, Recurrent> rec, Set<String> names) {
        Map<String, List<Node>> readers = new HashMap<>();
        for (Node n : order) {
            for (String in : new HashSet<>(n.inputs)) {
                readers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
        }
        Map<String, Set<Role>> roles = new HashMap<>();
        for (String name : names) {
            Set<Role> found = EnumSet.noneOf(Role.class);
            Set<String> seen = new HashSet<>();
            Deque<String> todo = new ArrayDeque<>(List.of(name));
            while (!todo.isEmpty()) {
                String v = todo.pop();
                if (!seen.add(v)) {
                    continue;
                }
                for (Node n : readers.getOrDefault(v, List.of())) {
                    for (int i = 0; i < n.inputs.size(); i++) {
                        if (!n.inputs.get(i).equals(v)) {
                            continue;
                        }
                        if (rec.containsKey(n)) {
                            found.add(Recurrent.inputRole(i));
                        } else if (HostOperators.passesData(n, i)) {
                            n.outputs.stream().filter(s -> !s.isEmpty()).forEach(todo::push);
                        }
                    }
                }
            }
            roles.put(name, found);
        }
        return roles;
    }

    /** The recurrent outputs a graph output's data comes from, traced back through the glue. */
    private static Set<Role> outputRoles(String name, Map<String, Node> producers, Map<Node, Recurrent> rec) {
        Set<Role> found = EnumSet.noneOf(Role.class);
        Set<String> seen = new HashSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of(name));
        while (!todo.isEmpty()) {
            String v = todo.pop();
            Node p = producers.get(v);
            if (p == null || !seen.add(v)) {
                continue;
            }
            if (rec.containsKey(p)) {
                found.add(Recurrent.OUTPUTS[p.outputs.indexOf(v)]);
                continue;
            }
            for (int i = 0; i < p.inputs.size(); i++) {
                if (HostOperators.passesData(p, i) && !p.inputs.get(i).isEmpty()) {
                    todo.push(p.inputs.get(i));
                }
            }
        }
        return found;
    }

    private static Port port(String name, TypeProto.Tensor type, Set<Role> roles) {
        List<String> dims = null;
        if (type.hasShape()) {
            dims = new ArrayList<>();
            for (TensorShapeProto.Dimension d : type.getShape().getDimList()) {
                dims.add(d.hasDimValue() ? Long.toString(d.getDimValue())
                        : d.hasDimParam() && !d.getDimParam().isEmpty() ? FormatException.plain(d.getDimParam()) : "?");
            }
        }
        return new Port(name, ElementType.onnxName(type.getElemType()), dims, roles);
    }

    /** The graph inputs a run must be given (initializers excluded), in the model's order. */
    public List<Port> inputs() {
        return inputs;
    }

    public List<Port> outputs() {
        return outputs;
    }

    /** The graph inputs whose data becomes {@code role} of some recurrent node, and nothing else. */
    public List<Port> inputsFor(Role role) {
        return inputs.stream().filter(p -> p.roles().equals(EnumSet.of(role))).toList();
    }

    /** The graph outputs whose data comes from {@code role} of some recurrent node, and nothing else. */
    public List<Port> outputsFor(Role role) {
        return outputs.stream().filter(p -> p.roles().equals(EnumSet.of(role))).toList();
    }

    /** The model on {@code device}: one engine per recurrent node, made now where the weights are constant. */
    public OnnxSession open(Device device) {
        return new OnnxSession(this, device);
    }

    /** What the model takes, gives and runs, for people: {@code clrnn inspect} prints it. */
    public String describe() {
        StringBuilder s = new StringBuilder();
        s.append(file).append(": ONNX IR version ").append(irVersion).append(", opset ").append(opset);
        if (!producer.isEmpty()) {
            s.append(", from ").append(FormatException.plain(producer));
        }
        s.append('\n');
        s.append("inputs:\n");
        appendPorts(s, inputs, "becomes");
        s.append("outputs:\n");
        appendPorts(s, outputs, "comes from");
        s.append("recurrent nodes:\n");
        for (Recurrent r : recurrent.values()) {
            if (!program.contains(r.node)) {
                continue;
            }
            RnnWeights w = fixedWeights.get(r);
            String module = w != null ? w.config().toString() : r.node.opType + "(hidden_size="
                    + (r.hiddenSize > 0 ? r.hiddenSize : "from R") + ", weights given at run time)";
            s.append("  ").append(r.node.id).append(": ").append(module).append(r.extras()).append('\n');
        }
        Set<String> floats = floatValues();
        Map<Boolean, Map<String, Long>> where = program.stream().filter(n -> !recurrent.containsKey(n))
                .collect(Collectors.partitioningBy(n -> runsOnDevice(n, floats), Collectors.groupingBy(n -> n.opType,
                        TreeMap::new, Collectors.counting())));
        long run = where.values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).sum();
        s.append("operators: ").append(glueNodes).append(" nodes besides the recurrent ones, ")
                .append(glueNodes - run).append(" of them folded into constants at load\n");
        s.append("  on the device: ").append(counts(where.get(true))).append('\n');
        s.append("  on the host (shape arithmetic, indices, masks): ").append(counts(where.get(false))).append('\n');
        long weightBytes = constants.values().stream().filter(v -> v instanceof Value.Floats)
                .mapToLong(v -> 4L * v.numel()).sum();
        s.append(String.format(Locale.ROOT, "device memory: %.2f MiB of weights; a run's tensors come from a pool "
                + "reused node to node and run to run (clrnn bench reports its peak)", weightBytes / 1048576.0));
        String refusal = streamRefusal();
        s.append("\nstreaming: ").append(refusal == null ? "yes: a chunk at a time, every recurrent node's state kept on "
                + "the device (OnnxSession.stream, clrnn generate, clrnn serve's sequences)"
                : "no: " + (refusal.startsWith(file + ": ") ? refusal.substring(file.length() + 2) : refusal));
        return s.append('\n').toString();
    }

    /**
     * Why the graph cannot be fed a chunk at a time ({@link OnnxSession#stream}), in one line naming the node; null
     * when it can.
     */
    public String streamRefusal() {
        return StreamCheck.refusal(file, program, recurrent, constants::get, opset);
    }

    private static String counts(Map<String, Long> ops) {
        return ops.isEmpty() ? "none" : ops.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", "));
    }

    /**
     * The names whose values are floating-point, as a run will make them: float initializers and inputs, and what
     * nodes make of them (Shape, Size, ArgMax, Equal and a Cast to integers make integers).
     */
    private Set<String> floatValues() {
        Set<String> floats = new HashSet<>();
        constants.forEach((name, v) -> {
            if (v instanceof Value.Floats) {
                floats.add(name);
            }
        });
        inputTypes.forEach((name, t) -> {
            ElementType e = ElementType.ofOnnx(t.getElemType());
            if (e != null && e.isFloat()) {
                floats.add(name);
            }
        });
        for (Node n : program) {
            boolean out = switch (n.opType) {
                case "Shape", "Size", "ArgMax", "ArgMin", "Equal" -> false;
                case "Cast" -> {
                    long to = n.getInt("to", 0);
                    ElementType t = to > 0 && to < 100 ? ElementType.ofOnnx((int) to) : null;
                    yield t != null && t.isFloat();
                }
                case "ConstantOfShape", "Constant" -> {
                    TensorProto v = n.has("value") ? n.getTensor("value") : null;
                    ElementType t = v == null ? null : ElementType.ofOnnx(v.getDataType());
                    yield v == null ? !n.has("value_int") && !n.has("value_ints") : t != null && t.isFloat();
                }
                case "Where" -> floats.contains(n.input(1));
                default -> floats.contains(n.input(0));
            };
            if (out) {
                floats.add(n.output(0));
                if (recurrent.containsKey(n)) {
                    n.outputs.forEach(floats::add);
                }
            }
        }
        return floats;
    }

    /** Whether a node works on the device: float data, and an operator that runs there (not Where or Equal). */
    private static boolean runsOnDevice(Node n, Set<String> floats) {
        if (n.opType.equals("Where") || n.opType.equals("Equal") || n.opType.equals("Shape")
                || n.opType.equals("Size") || n.opType.startsWith("Constant")) {
            return false;
        }
        for (String in : n.inputs) {
            if (floats.contains(in)) {
                return true;
            }
        }
        return false;
    }

    private static void appendPorts(StringBuilder s, List<Port> ports, String verb) {
        int width = ports.stream().mapToInt(p -> FormatException.plain(p.name()).length()).max().orElse(0);
        for (Port p : ports) {
            s.append("  ").append(String.format(Locale.ROOT, "%-" + Math.max(1, width) + "s", FormatException.plain(p.name())))
                    .append("  ").append(p.type()).append(' ').append(p.shape());
            if (!p.roles().isEmpty()) {
                s.append("  ").append(verb).append(' ').append(p.roles().stream().map(Role::onnxName)
                        .collect(Collectors.joining(", ")));
            }
            s.append('\n');
        }
    }

    @Override
    public String toString() {
        return "OnnxModel(" + file + ")";
    }

    /**
     * The declared dims of an input, -1 where symbolic or unknown; null when the model gives no shape. A dim larger
     * than any tensor can have stays as it is, so that no input matches it.
     */
    long[] declaredDims(String input) {
        TypeProto.Tensor t = inputTypes.get(input);
        if (!t.hasShape()) {
            return null;
        }
        return t.getShape().getDimList().stream().mapToLong(d -> d.hasDimValue() && d.getDimValue() >= 0
                ? d.getDimValue() : -1).toArray();
    }

    static String format(long[] dims) {
        return java.util.Arrays.stream(dims).mapToObj(d -> d < 0 ? "?" : Long.toString(d))
                .collect(Collectors.joining(", ", "[", "]"));
    }
}
