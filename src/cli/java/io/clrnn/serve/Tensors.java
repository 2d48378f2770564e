package io.clrnn.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * Tensors as the Open Inference Protocol's JSON carries them: name, shape, datatype and data, flat or nested in
 * row-major order. Float types arrive as floats, integer types as longs.
 */
final class Tensors {
    static final Set<String> FLOATS = Set.of("FP16", "FP32", "FP64");
    static final Set<String> INTS = Set.of("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64");
    /** The most elements one tensor of a request may have (2^28, as the graph executor allows). */
    static final long MAX_ELEMENTS = 1L << 28;

    private Tensors() {}

    /** One input tensor: {@code floats} for a float datatype, else {@code ints}. */
    record Input(String name, String datatype, int[] shape, float[] floats, long[] ints) {
        int numel() {
            return floats != null ? floats.length : ints.length;
        }
    }

    static Input parse(JsonNode t) {
        if (t == null || !t.isObject()) {
            throw new BadRequest("each input is an object with name, shape, datatype and data");
        }
        String name = text(t, "name", "an input");
        String datatype = text(t, "datatype", "input '" + name + "'").toUpperCase(Locale.ROOT);
        if (!FLOATS.contains(datatype) && !INTS.contains(datatype)) {
            throw new BadRequest("input '" + name + "' has datatype " + datatype + "; clrnn takes " + "FP16, FP32, FP64 "
                    + "and the INT and UINT types");
        }
        JsonNode shapeNode = t.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new BadRequest("input '" + name + "' has no shape (an array of sizes)");
        }
        int[] shape = new int[shapeNode.size()];
        long n = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || d.asLong() < 0 || d.asLong() > Integer.MAX_VALUE) {
                throw new BadRequest("input '" + name + "' has shape " + shapeNode + ": sizes are whole numbers >= 0");
            }
            shape[i] = d.asInt();
            n = Math.multiplyExact(n, Math.max(1, (long) shape[i]));
            if (shape[i] == 0) {
                n = 0;
            }
        }
        if (n > MAX_ELEMENTS) {
            throw new BadRequest("input '" + name + "' has shape " + Arrays.toString(shape) + ", more than "
                    + MAX_ELEMENTS + " elements");
        }
        JsonNode data = t.get("data");
        if (data == null) {
            throw new BadRequest("input '" + name + "' has no data");
        }
        boolean isFloat = FLOATS.contains(datatype);
        float[] floats = isFloat ? new float[(int) n] : null;
        long[] ints = isFloat ? null : new long[(int) n];
        int[] at = {0};
        flatten(data, name, isFloat, floats, ints, at, (int) n);
        if (at[0] != n) {
            throw new BadRequest("input '" + name + "' has " + at[0] + " values; its shape " + Arrays.toString(shape)
                    + " holds " + n);
        }
        return new Input(name, datatype, shape, floats, ints);
    }

    private static void flatten(JsonNode node, String name, boolean isFloat, float[] floats, long[] ints, int[] at,
            int n) {
        if (node.isArray()) {
            for (JsonNode child : node) {
                flatten(child, name, isFloat, floats, ints, at, n);
            }
            return;
        }
        if (at[0] >= n) {
            throw new BadRequest("input '" + name + "' has more values than its shape holds (" + n + ")");
        }
        if (isFloat) {
            if (!node.isNumber()) {
                throw new BadRequest("input '" + name + "' holds " + describe(node) + " at element " + at[0]
                        + "; its datatype takes numbers");
            }
            floats[at[0]++] = (float) node.asDouble();
        } else {
            if (!node.isIntegralNumber() || !node.canConvertToLong()) {
                throw new BadRequest("input '" + name + "' holds " + describe(node) + " at element " + at[0]
                        + "; its datatype takes whole numbers");
            }
            ints[at[0]++] = node.asLong();
        }
    }

    private static String describe(JsonNode node) {
        String s = node.toString();
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    static String text(JsonNode t, String field, String what) {
        JsonNode v = t.get(field);
        if (v == null || !v.isTextual()) {
            throw new BadRequest(what + " has no " + field + " (a string)");
        }
        return v.asText();
    }

    /** An output tensor's JSON: FP32 data, flat. */
    static ObjectNode output(String name, int[] shape, float[] data) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("name", name);
        ArrayNode s = o.putArray("shape");
        for (int d : shape) {
            s.add(d);
        }
        o.put("datatype", "FP32");
        ArrayNode values = o.putArray("data");
        for (float v : data) {
            values.add(v);
        }
        return o;
    }
}
