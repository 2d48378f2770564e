package io.clrnn.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clrnn.base.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads and writes safetensors files: an 8-byte little-endian header length, a JSON header, then
 * one data buffer. Reading is as strict as the reference implementation: the tensors' byte ranges
 * must tile the buffer exactly, with no overlaps, gaps or trailing bytes. {@link #open} lists tensors
 * of every dtype and decodes on demand; {@link #read} decodes them all, so it takes floating types only.
 */
public final class Safetensors {
    // The reference implementation's limit; a larger header is an attack or an accident.
    private static final long MAX_HEADER_LENGTH = 100_000_000L;
    private static final String METADATA = "__metadata__";
    private static final Set<String> FIELDS = Set.of("dtype", "shape", "data_offsets");

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // readTree otherwise stops after the first value and ignores what follows.
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Safetensors() {}

    /**
     * Opens a safetensors file as a {@link WeightFile}: the header is checked in full now, every
     * valid dtype is listed, and a tensor is decoded (floating types only) when asked for.
     */
    public static WeightFile open(Path path) throws IOException {
        return open(AtomicFiles.readAll(path), String.valueOf(path.getFileName()));
    }

    /** {@link #open(Path)} for bytes in memory; {@code name} starts every error message. */
    public static WeightFile open(byte[] bytes, String name) {
        return parse(bytes, name);
    }

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

    /**
     * Tensors and metadata of safetensors bytes; {@code name} starts every error message (null for
     * none). Every tensor is decoded, so one that is not floating-point is refused, by name.
     */
    public static SafetensorsFile readFile(byte[] bytes, String name) {
        Opened file = parse(bytes, name);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Span span : file.byName.values()) {
            tensors.put(span.name, file.decode(span));
        }
        return new SafetensorsFile(tensors, file.metadata);
    }

    private static Opened parse(byte[] bytes, String name) {
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
        List<Span> spans = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals(METADATA)) {
                metadata = metadata(field.getValue(), name);
            } else {
                spans.add(span(field.getKey(), field.getValue(), bufferLength, name));
            }
        }

        // The ranges, sorted (a stable sort keeps header order for equal ranges), must tile the buffer.
        spans.sort(Comparator.comparingLong(Span::begin).thenComparingLong(Span::end));
        long covered = 0;
        Span previous = null;
        for (Span e : spans) {
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
        return new Opened(bytes, name, bufferStart, spans, metadata);
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
    private record Span(String name, ElementType type, int[] shape, long begin, long end) {}

    /** A parsed file: the bytes, and each tensor's checked place in them, in data-offset order. */
    private static final class Opened implements WeightFile {
        private final byte[] bytes;
        private final String name;
        private final int bufferStart;
        /** The spans by tensor name, in data-offset order (the header refuses duplicate names). */
        private final Map<String, Span> byName = new LinkedHashMap<>();
        private final Map<String, String> metadata;
        private final List<Entry> entries;

        Opened(byte[] bytes, String name, int bufferStart, List<Span> spans, Map<String, String> metadata) {
            this.bytes = bytes;
            this.name = name;
            this.bufferStart = bufferStart;
            this.metadata = metadata;
            List<Entry> list = new ArrayList<>();
            for (Span s : spans) {
                byName.put(s.name, s);
                list.add(new Entry(s.name, s.type.dtype(), s.shape));
            }
            this.entries = Collections.unmodifiableList(list);
        }

        @Override
        public String format() {
            return "safetensors";
        }

        @Override
        public List<Entry> entries() {
            return entries;
        }

        @Override
        public Tensor tensor(String tensor) {
            Span span = byName.get(tensor);
            if (span == null) {
                throw FormatException.of(name, "no tensor named " + FormatException.quote(tensor));
            }
            return decode(span);
        }

        Tensor decode(Span span) {
            ElementType type = span.type;
            type.requireFloat(name, span.name);
            int count = (int) ((span.end - span.begin) / type.size());
            float[] data = type.decode(bytes, bufferStart + (int) span.begin, count, ByteOrder.LITTLE_ENDIAN);
            return Tensor.of(data, span.shape);
        }
    }

    private static JsonNode parseHeader(byte[] bytes, int length, String name) {
        String text = StrictText.decode(bytes, 8, length, StandardCharsets.UTF_8,
                () -> FormatException.of(name, "header is not valid UTF-8"));
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

    private static Span span(String tensor, JsonNode node, long bufferLength, String name) {
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
        // Every dtype the format defines may be listed; only the floating ones are decoded.
        ElementType type = ElementType.ofSafetensors(dtype);
        if (type == null) {
            throw FormatException.of(name, "unknown dtype " + FormatException.quote(dtype) + " for " + t);
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
        // Sub-byte types pack; like the reference, a count that leaves half a byte is refused.
        long bits = count * type.bits();
        if (bits % 8 != 0) {
            throw FormatException.of(name, t + ": shape " + Tensor.format(shape) + " of " + dtype
                    + " does not fill a whole number of bytes");
        }
        if (bits / 8 != end - begin) {
            throw FormatException.of(name, t + ": shape " + Tensor.format(shape) + " of " + dtype + " needs "
                    + bits / 8 + " bytes but data_offsets span " + (end - begin));
        }
        return new Span(tensor, type, shape, begin, end);
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
