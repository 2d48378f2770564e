package io.clrnn.onnx;

import io.clrnn.base.InvalidInputException;
import io.clrnn.format.FormatException;
import io.clrnn.onnx.proto.AttributeProto.AttributeType;
import io.clrnn.onnx.proto.AttributeProto;
import io.clrnn.onnx.proto.NodeProto;
import io.clrnn.onnx.proto.TensorProto;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One node of a graph: its operator, the names it reads and writes (an empty name is an absent optional
 * input or output), and its attributes, read with their types checked.
 */
final class Node {
    final String opType;
    final List<String> inputs;
    final List<String> outputs;
    /** The node's name as the file gives it; may be empty. */
    final String name;
    /** {@code 'name'}, or {@code #3} when it has none. */
    final String id;
    /** {@code node 'name' (Op)}, or {@code node #3 (Op)} when it has no name. */
    final String label;
    /** {@code file: node 'name' (Op)}: the start of every message about this node. */
    final String where;
    private final Map<String, AttributeProto> attributes;

    Node(int index, NodeProto proto, String file) {
        String name = proto.getName();
        this.name = name;
        this.opType = proto.getOpType();
        this.inputs = List.copyOf(proto.getInputList());
        this.outputs = List.copyOf(proto.getOutputList());
        this.id = name.isEmpty() ? "#" + index : FormatException.quote(name);
        this.label = "node " + id + " (" + FormatException.plain(opType) + ")";
        this.where = file + ": " + label;
        Map<String, AttributeProto> attrs = new LinkedHashMap<>();
        for (AttributeProto a : proto.getAttributeList()) {
            if (attrs.put(a.getName(), a) != null) {
                throw new FormatException(where + " has attribute " + FormatException.quote(a.getName()) + " twice");
            }
            if (!a.getRefAttrName().isEmpty()) {
                throw new FormatException(where + ": attribute " + FormatException.quote(a.getName())
                        + " refers to a function's attribute, which only a function body may do");
            }
        }
        this.attributes = Collections.unmodifiableMap(attrs);
    }

    /** The name of input {@code i}, or "" when the node does not give it. */
    String input(int i) {
        return i < inputs.size() ? inputs.get(i) : "";
    }

    boolean hasInput(int i) {
        return !input(i).isEmpty();
    }

    String output(int i) {
        return i < outputs.size() ? outputs.get(i) : "";
    }

    /** Refuses attributes the operator does not have: a misspelt or newer attribute must not be ignored silently. */
    void allowAttributes(Set<String> known) {
        for (String a : attributes.keySet()) {
            if (!known.contains(a)) {
                throw new FormatException(where + " has attribute " + FormatException.quote(a) + ", which clrnn does not know for "
                        + opType + (known.isEmpty() ? " (it takes none)" : " (it knows " + String.join(", ",
                        known.stream().sorted().toList()) + ")"));
            }
        }
    }

    /** Checks the count of inputs given (absent optional ones included) and of outputs. */
    void arity(int minInputs, int maxInputs, int maxOutputs) {
        int given = inputs.size();
        while (given > 0 && inputs.get(given - 1).isEmpty()) {
            given--;
        }
        if (given < minInputs || inputs.size() > maxInputs) {
            throw new FormatException(where + " has " + inputs.size() + " inputs; " + opType + " takes "
                    + (minInputs == maxInputs ? "" + minInputs : minInputs + " to " + maxInputs));
        }
        for (int i = 0; i < minInputs; i++) {
            if (inputs.get(i).isEmpty()) {
                throw new FormatException(where + " leaves its required input " + i + " empty");
            }
        }
        if (outputs.size() > maxOutputs || outputs.isEmpty()) {
            throw new FormatException(where + " has " + outputs.size() + " outputs; " + opType + " gives "
                    + (maxOutputs == 1 ? "1" : "1 to " + maxOutputs));
        }
    }

    boolean has(String attribute) {
        return attributes.containsKey(attribute);
    }

    long getInt(String attribute, long otherwise) {
        AttributeProto a = typed(attribute, AttributeType.INT);
        return a == null ? otherwise : a.getI();
    }

    float getFloat(String attribute, float otherwise) {
        AttributeProto a = typed(attribute, AttributeType.FLOAT);
        return a == null ? otherwise : a.getF();
    }

    String getString(String attribute, String otherwise) {
        AttributeProto a = typed(attribute, AttributeType.STRING);
        return a == null ? otherwise : a.getS().toString(StandardCharsets.UTF_8);
    }

    /** The attribute's ints, or null when absent. */
    long[] getInts(String attribute) {
        AttributeProto a = typed(attribute, AttributeType.INTS);
        return a == null ? null : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    /** The attribute's floats, or null when absent. */
    float[] getFloats(String attribute) {
        AttributeProto a = typed(attribute, AttributeType.FLOATS);
        if (a == null) {
            return null;
        }
        float[] f = new float[a.getFloatsCount()];
        for (int i = 0; i < f.length; i++) {
            f[i] = a.getFloats(i);
        }
        return f;
    }

    /** The attribute's strings, or null when absent. */
    List<String> getStrings(String attribute) {
        AttributeProto a = typed(attribute, AttributeType.STRINGS);
        return a == null ? null : a.getStringsList().stream().map(s -> s.toString(StandardCharsets.UTF_8)).toList();
    }

    TensorProto getTensor(String attribute) {
        AttributeProto a = typed(attribute, AttributeType.TENSOR);
        return a == null ? null : a.getT();
    }

    private AttributeProto typed(String attribute, AttributeType type) {
        AttributeProto a = attributes.get(attribute);
        if (a != null && a.getType() != type) {
            throw new FormatException(where + ": attribute " + FormatException.quote(attribute) + " should be "
                    + type.name().toLowerCase(java.util.Locale.ROOT) + ", got "
                    + (a.getType() == AttributeType.UNRECOGNIZED ? "an unknown type"
                    : a.getType().name().toLowerCase(java.util.Locale.ROOT)));
        }
        return a;
    }

    /** A one-line error about this node, for problems found while running it (its inputs' shapes, say). */
    InvalidInputException fail(String detail) {
        return new InvalidInputException(where + ": " + detail);
    }
}
