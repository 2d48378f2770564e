package io.clrnn.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clrnn.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads and writes safetensors files: an 8-byte little-endian header length, a JSON header, then
 * one data buffer. Reading is as strict as the reference implementation: the tensors' byte ranges
 * must tile the buffer exactly, with no overlaps, gaps or trailing bytes.
 */
public final class Safetensors {
    // The reference implementation's limit; a larger header is an attack or an accident.
    private static final long MAX_HEADER_LENGTH = 100_000_000L;
    private static final String METADATA = "__metadata__";
    private static final Set<String> FIELDS = Set.of("dtype", "shape", "data_offsets");
    private static final Map<String, ElementType> READABLE = Map.of(
            "F32", ElementType.F32, "F16", ElementType.F16, "BF16", ElementType.BF16, "F64", ElementType.F64);
    // Valid safetensors dtypes that clrnn does not read; anything else is not a dtype at all.
    private static final Set<String> UNSUPPORTED = Set.of(
            "BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64", "C64",
            "F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4");

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // readTree otherwise stops after the first value and ignores what follows.
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Safetensors() {}

    /** The tensors of a safetensors file, in data-offset order; messages start with the file name. */
    public static Map<String, Tensor> read(Path path) throws IOException {
        return readFile(path).tensors();
    }

    /** The tensors of safetensors bytes, in data-offset order; {@code name} starts every error message. */
    public static Map<String, Tensor> read(byte[] bytes, String name) {
        return readFile(bytes, name).tensors();
    }

    /** Tensors and metadata of a safetensors file. */
    public static SafetensorsFile readFile(Path path) throws IOException {
        return readFile(AtomicFiles.readAll(path), String.valueOf(path.getFileName()));
    }

    /** Tensors and metadata of safetensors bytes; {@code name} starts every error message (null for none). */
    public static SafetensorsFile readFile(byte[] bytes, String name) {
        if (bytes.length < 8) {
            throw FormatException.of(name, "file is " + bytes.length + " bytes, shorter than the 8-byte header length");
        }
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        // A u64 read as a signed long: negative means above 2^63, far beyond the limit too.
        if (headerLength < 0 || headerLength > MAX_HEADER_LENGTH) {
            throw FormatException.of(name, "header length " + Long.toUnsignedString(headerLength)
                    + " exceeds the limit of " + MAX_HEADER_LENGTH + " bytes");
        }
        if (8 + headerLength > bytes.length) {
            throw FormatException.of(name, "header length " + headerLength + " runs past the end of the file ("
                    + bytes.length + " bytes)");
        }
        JsonNode root = parseHeader(bytes, (int) headerLength, name);
        if (!root.isObject()) {
            throw FormatException.of(name, "header is not a JSON object");
        }

        int bufferStart = 8 + (int) headerLength;
        long bufferLength = bytes.length - bufferStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals(METADATA)) {
                metadata = metadata(field.getValue(), name);
            } else {
                entries.add(entry(field.getKey(), field.getValue(), bufferLength, name));
            }
        }

        // The ranges, sorted (a stable sort keeps header order for equal ranges), must tile the buffer.
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry previous = null;
        for (Entry e : entries) {
            if (e.begin < covered) {
                throw FormatException.of(name, "data of tensor " + FormatException.quote(e.name)
                        + " overlaps tensor " + FormatException.quote(previous.name));
            }
            if (e.begin > covered) {
                throw FormatException.of(name, "data offsets leave a gap of " + (e.begin - covered)
                        + " bytes before tensor " + FormatException.quote(e.name));
            }
            covered = e.end;
            previous = e;
        }
        if (covered != bufferLength) {
            throw FormatException.of(name, (bufferLength - covered) + " trailing bytes after the last tensor");
        }

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            int count = (int) ((e.end - e.begin) / e.type.size);
            float[] data = e.type.decode(bytes, bufferStart + (int) e.begin, count, ByteOrder.LITTLE_ENDIAN);
            tensors.put(e.name, Tensor.of(data, e.shape));
        }
        return new SafetensorsFile(tensors, metadata);
    }

    /** Writes F32 tensors (in map order) and optional metadata, atomically. */
    public static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        AtomicFiles.write(path, toBytes(tensors, metadata));
    }

    /** The safetensors bytes for F32 tensors in map order; {@code metadata} may be null or empty. */
    public static byte[] toBytes(Map<String, Tensor> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject(METADATA);
            metadata.forEach((k, v) -> m.put(Objects.requireNonNull(k, "metadata key"),
                    Objects.requireNonNull(v, "metadata value")));
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> t : tensors.entrySet()) {
            if (t.getKey().equals(METADATA)) {
                throw new IllegalArgumentException("a tensor cannot be named " + METADATA);
            }
            ObjectNode e = root.putObject(t.getKey());
            e.put("dtype", "F32");
            ArrayNode shape = e.putArray("shape");
            for (int d : t.getValue().shape()) {
                shape.add(d);
            }
            long end = offset + 4L * t.getValue().numel();
            e.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a safetensors header", e);
        }
        // Pad with spaces so the data buffer starts 8-byte aligned, as the reference writer does.
        int padded = json.length + (8 - json.length % 8) % 8;
        long total = 8L + padded + offset;
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensors of " + offset + " bytes are too large for one safetensors byte array");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        while (out.position() < 8 + padded) {
            out.put((byte) ' ');
        }
        FloatBuffer data = out.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        for (Tensor t : tensors.values()) {
            data.put(t.data());
        }
        return out.array();
    }

    /** One tensor's header entry, checked against itself and the buffer length. */
    private record Entry(String name, ElementType type, int[] shape, long begin, long end) {}

    private static JsonNode parseHeader(byte[] bytes, int length, String name) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 8, length))
                    .toString();
        } catch (CharacterCodingException e) {
            throw FormatException.of(name, "header is not valid UTF-8");
        }
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            String why = Objects.requireNonNullElse(e.getOriginalMessage(), e.getClass().getSimpleName());
            if (why.length() > 200) {
                why = why.substring(0, 200) + "...";
            }
            throw FormatException.of(name, "header is not valid JSON: " + why);
        }
    }

    private static Map<String, String> metadata(JsonNode node, String name) {
        if (!node.isObject()) {
            throw FormatException.of(name, METADATA + " is not a JSON object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> f : node.properties()) {
            if (!f.getValue().isTextual()) {
                throw FormatException.of(name, METADATA + " value for " + FormatException.quote(f.getKey())
                        + " is not a string");
            }
            out.put(f.getKey(), f.getValue().textValue());
        }
        return out;
    }

    private static Entry entry(String tensor, JsonNode node, long bufferLength, String name) {
        String t = "tensor " + FormatException.quote(tensor);
        if (!node.isObject()) {
            throw FormatException.of(name, "entry for " + t + " is not a JSON object");
        }
        for (String field : FIELDS) {
            if (!node.has(field)) {
                throw FormatException.of(name, t + " is missing field '" + field + "'");
            }
        }
        for (var it = node.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw FormatException.of(name, t + " has unexpected field " + FormatException.quote(field));
            }
        }

        JsonNode dtypeNode = node.get("dtype");
        if (!dtypeNode.isTextual()) {
            throw FormatException.of(name, t + ": dtype is not a string");
        }
        String dtype = dtypeNode.textValue();
        ElementType type = READABLE.get(dtype);
        if (type == null) {
            String what = UNSUPPORTED.contains(dtype) ? "unsupported dtype " + dtype : "unknown dtype " + FormatException.quote(dtype);
            throw FormatException.of(name, what + " for " + t + " (clrnn reads F32, F16, BF16, F64)");
        }

        JsonNode shapeNode = node.get("shape");
        if (!shapeNode.isArray()) {
            throw FormatException.of(name, t + ": shape is not an array");
        }
        int[] shape = new int[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = nonNegativeLong(shapeNode.get(i), t + ": shape", name);
            if (d > Integer.MAX_VALUE) {
                throw FormatException.of(name, t + ": shape dimension " + d + " is more than " + Integer.MAX_VALUE);
            }
            shape[i] = (int) d;
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException e) {
                throw FormatException.of(name, t + ": shape " + Tensor.format(shape) + " overflows");
            }
        }

        JsonNode offsets = node.get("data_offsets");
        if (!offsets.isArray() || offsets.size() != 2) {
            throw FormatException.of(name, t + ": data_offsets is not an array of two integers");
        }
        long begin = nonNegativeLong(offsets.get(0), t + ": data_offsets", name);
        long end = nonNegativeLong(offsets.get(1), t + ": data_offsets", name);
        if (begin > end) {
            throw FormatException.of(name, t + ": data_offsets begin " + begin + " is after end " + end);
        }
        if (end > bufferLength) {
            throw FormatException.of(name, t + ": data_offsets end " + end + " runs past the end of the data buffer ("
                    + bufferLength + " bytes)");
        }
        // end <= bufferLength < 2^31: a count past Integer.MAX_VALUE can never match, and below it
        // count * size cannot overflow a long.
        if (count > Integer.MAX_VALUE) {
            throw FormatException.of(name, t + ": shape " + Tensor.format(shape) + " holds more than "
                    + Integer.MAX_VALUE + " elements");
        }
        if (count * type.size != end - begin) {
            throw FormatException.of(name, t + ": shape " + Tensor.format(shape) + " of " + dtype + " needs "
                    + count * type.size + " bytes but data_offsets span " + (end - begin));
        }
        return new Entry(tensor, type, shape, begin, end);
    }

    private static long nonNegativeLong(JsonNode n, String what, String name) {
        if (n == null || !n.isIntegralNumber()) {
            throw FormatException.of(name, what + " holds " + (n == null ? "nothing" : n.getNodeType().name().toLowerCase())
                    + " where an integer belongs");
        }
        if (!n.canConvertToLong()) {
            throw FormatException.of(name, what + " holds integer " + FormatException.quote(n.asText()) + ", too large");
        }
        long v = n.longValue();
        if (v < 0) {
            throw FormatException.of(name, what + " holds negative value " + v);
        }
        return v;
    }
}
