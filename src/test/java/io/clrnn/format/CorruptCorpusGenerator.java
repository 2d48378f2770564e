package io.clrnn.format;

import static io.clrnn.format.FormatFixtures.ascii;
import static io.clrnn.format.FormatFixtures.concat;
import static io.clrnn.format.FormatFixtures.npy;
import static io.clrnn.format.FormatFixtures.npyDict;
import static io.clrnn.format.FormatFixtures.npyRaw;
import static io.clrnn.format.FormatFixtures.safetensors;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds the corpus of corrupt files under src/test/resources/corrupt, one file per way a file can
 * be wrong. Run {@code main} (from the project root) after changing it and commit the output;
 * CorruptCorpusTest checks that the committed files still match.
 */
public final class CorruptCorpusGenerator {
    private static final byte[] DATA_2X3 = FormatFixtures.f32(ByteOrder.LITTLE_ENDIAN, 1, 2, 3, 4, 5, 6);

    private CorruptCorpusGenerator() {}

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : "src/test/resources/corrupt");
        write(root.resolve("npy"), npyFiles());
        write(root.resolve("safetensors"), safetensorsFiles());
    }

    private static void write(Path dir, Map<String, byte[]> files) throws IOException {
        Files.createDirectories(dir);
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Files.write(dir.resolve(f.getKey()), f.getValue());
        }
    }

    /** File name to contents, for the .npy corpus. */
    static Map<String, byte[]> npyFiles() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        String ok = npyDict("<f4", false, "(2, 3)");
        m.put("empty.npy", new byte[0]);
        byte[] badMagic = npy(1, ok, DATA_2X3);
        badMagic[5] = 'X';
        m.put("bad-magic.npy", badMagic);
        m.put("preamble-truncated.npy", concat(FormatFixtures.NPY_MAGIC, new byte[] {1}));
        m.put("preamble-truncated-v2.npy", concat(FormatFixtures.NPY_MAGIC, new byte[] {2, 0, 10, 0}));
        m.put("unsupported-version-4.npy", npyRaw(4, 0, 0, new byte[0], new byte[4]));
        m.put("unsupported-version-1.1.npy", npyRaw(1, 1, 0, new byte[0], new byte[4]));
        m.put("header-length-over-limit.npy", npyRaw(2, 0, 20_000, ascii(ok + "\n"), DATA_2X3));
        m.put("header-past-eof.npy", npyRaw(1, 0, 500, ascii(ok + "\n"), DATA_2X3));
        m.put("header-not-dict.npy", npy(1, "[1, 2]", DATA_2X3));
        m.put("header-empty.npy", npyRaw(1, 0, 0, new byte[0], DATA_2X3));
        m.put("header-unclosed-dict.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", DATA_2X3));
        m.put("header-unterminated-string.npy", npy(1, "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}", DATA_2X3));
        m.put("header-trailing-text.npy", npy(1, ok + " junk", DATA_2X3));
        // 0xFF never occurs in UTF-8; version 3.0 promises a UTF-8 header.
        byte[] notUtf8 = ascii(npyDict("<f4\u00ff", false, "(2, 3)") + "\n");
        m.put("header-not-utf8-v3.npy", npyRaw(3, 0, notUtf8.length, notUtf8, DATA_2X3));
        m.put("header-nested-too-deep.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
                + "(".repeat(40) + ")".repeat(40) + "}", DATA_2X3));
        m.put("header-key-not-string.npy", npy(1, "{1: '<f4', 'fortran_order': False, 'shape': (2, 3)}", DATA_2X3));
        m.put("missing-key-shape.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, }", DATA_2X3));
        m.put("extra-key.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1, }", DATA_2X3));
        m.put("duplicate-key.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'shape': (6,), }", DATA_2X3));
        m.put("shape-not-tuple.npy", npy(1, npyDict("<f4", false, "[2, 3]"), DATA_2X3));
        m.put("shape-parenthesised-int.npy", npy(1, npyDict("<f4", false, "(6)"), DATA_2X3));
        m.put("shape-not-ints.npy", npy(1, npyDict("<f4", false, "('2', 3)"), DATA_2X3));
        m.put("shape-float.npy", npy(1, npyDict("<f4", false, "(2.0, 3)"), DATA_2X3));
        m.put("shape-negative.npy", npy(1, npyDict("<f4", false, "(-2, 3)"), DATA_2X3));
        m.put("shape-overflow-elements.npy", npy(1, npyDict("<f4", false, "(65536, 65536)"), DATA_2X3));
        m.put("shape-overflow-bytes.npy", npy(1, npyDict("<f4", false, "(1073741824,)"), DATA_2X3));
        m.put("shape-dimension-too-large.npy", npy(1, npyDict("<f4", false, "(3000000000,)"), DATA_2X3));
        m.put("shape-integer-too-large.npy", npy(1, npyDict("<f4", false, "(99999999999999999999,)"), DATA_2X3));
        m.put("fortran-order-not-bool.npy", npy(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", DATA_2X3));
        m.put("descr-not-string.npy", npy(1, "{'descr': 4, 'fortran_order': False, 'shape': (2, 3), }", DATA_2X3));
        m.put("dtype-object.npy", npy(1, npyDict("|O", false, "(2, 3)"), DATA_2X3));
        m.put("dtype-int32.npy", npy(1, npyDict("<i4", false, "(2, 3)"), DATA_2X3));
        m.put("dtype-bool.npy", npy(1, npyDict("|b1", false, "(2, 3)"), DATA_2X3));
        m.put("dtype-complex64.npy", npy(1, npyDict("<c8", false, "(2, 3)"), DATA_2X3));
        m.put("dtype-f4-without-byte-order.npy", npy(1, npyDict("|f4", false, "(2, 3)"), DATA_2X3));
        m.put("dtype-structured.npy", npy(1, "{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (3,), }", DATA_2X3));
        m.put("truncated-data.npy", npy(1, ok, java.util.Arrays.copyOf(DATA_2X3, 20)));
        m.put("trailing-bytes.npy", npy(1, ok, concat(DATA_2X3, new byte[4])));
        return m;
    }

    /** File name to contents, for the safetensors corpus. */
    static Map<String, byte[]> safetensorsFiles() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("empty.safetensors", new byte[0]);
        m.put("shorter-than-length.safetensors", new byte[] {8, 0, 0, 0, 0});
        m.put("header-length-over-limit.safetensors", safetensors(200_000_000L, ascii("{}"), new byte[0]));
        m.put("header-length-u64-max.safetensors", safetensors(-1L, ascii("{}"), new byte[0]));
        m.put("header-past-eof.safetensors", safetensors(64, ascii("{}"), new byte[0]));
        m.put("header-not-utf8.safetensors", safetensors(4, new byte[] {'{', '"', (byte) 0xC3, '}'}, new byte[0]));
        m.put("header-empty.safetensors", safetensors(0, new byte[0], new byte[0]));
        m.put("header-not-json.safetensors", st("{\"a\": {dtype: F32}}"));
        m.put("header-not-object.safetensors", st("[1, 2]"));
        m.put("header-trailing-tokens.safetensors", st("{} {}"));
        m.put("duplicate-tensor.safetensors", st("{\"a\":" + entry("F32", "[1]", "[0,4]") + ",\"a\":"
                + entry("F32", "[1]", "[4,8]") + "}", new byte[8]));
        m.put("duplicate-field.safetensors", st("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]));
        m.put("entry-not-object.safetensors", st("{\"a\":[1]}"));
        m.put("missing-dtype.safetensors", st("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]));
        m.put("missing-shape.safetensors", st("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4]));
        m.put("missing-data-offsets.safetensors", st("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]));
        m.put("extra-field.safetensors", st("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", new byte[4]));
        m.put("dtype-not-string.safetensors", one("4", "[1]", "[0,4]", 4));
        m.put("dtype-i64.safetensors", one("\"I64\"", "[1]", "[0,8]", 8));
        m.put("dtype-bool.safetensors", one("\"BOOL\"", "[1]", "[0,1]", 1));
        m.put("dtype-u8.safetensors", one("\"U8\"", "[1]", "[0,1]", 1));
        m.put("dtype-f8-e4m3.safetensors", one("\"F8_E4M3\"", "[1]", "[0,1]", 1));
        m.put("dtype-unknown.safetensors", one("\"F128\"", "[1]", "[0,16]", 16));
        m.put("dtype-lowercase.safetensors", one("\"f32\"", "[1]", "[0,4]", 4));
        m.put("shape-not-array.safetensors", one("\"F32\"", "1", "[0,4]", 4));
        m.put("shape-not-integer.safetensors", one("\"F32\"", "[2.5]", "[0,4]", 4));
        m.put("shape-string.safetensors", one("\"F32\"", "[\"1\"]", "[0,4]", 4));
        m.put("shape-negative.safetensors", one("\"F32\"", "[-1]", "[0,4]", 4));
        m.put("shape-dimension-too-large.safetensors", one("\"F32\"", "[3000000000]", "[0,4]", 4));
        m.put("shape-overflow.safetensors", one("\"F32\"", "[2147483647,2147483647,2147483647]", "[0,4]", 4));
        m.put("shape-too-many-elements.safetensors", one("\"F32\"", "[65536,65536]", "[0,4]", 4));
        m.put("size-mismatch.safetensors", one("\"F32\"", "[2,3]", "[0,20]", 20));
        m.put("offsets-not-pair.safetensors", one("\"F32\"", "[1]", "[0,4,8]", 8));
        m.put("offsets-negative.safetensors", one("\"F32\"", "[1]", "[-4,0]", 4));
        m.put("offsets-not-integer.safetensors", one("\"F32\"", "[1]", "[0,4.0]", 4));
        m.put("offsets-integer-too-large.safetensors", one("\"F32\"", "[1]", "[0,99999999999999999999]", 4));
        m.put("offsets-begin-after-end.safetensors", one("\"F32\"", "[0]", "[4,0]", 4));
        m.put("offsets-past-end.safetensors", one("\"F32\"", "[2]", "[0,8]", 4));
        m.put("offsets-overlap.safetensors", st("{\"a\":" + entry("F32", "[2]", "[0,8]") + ",\"b\":"
                + entry("F32", "[2]", "[4,12]") + "}", new byte[12]));
        m.put("offsets-gap.safetensors", st("{\"a\":" + entry("F32", "[1]", "[0,4]") + ",\"b\":"
                + entry("F32", "[1]", "[8,12]") + "}", new byte[12]));
        m.put("offsets-gap-at-start.safetensors", one("\"F32\"", "[1]", "[4,8]", 8));
        m.put("trailing-bytes.safetensors", one("\"F32\"", "[1]", "[0,4]", 8));
        m.put("trailing-bytes-no-tensors.safetensors", st("{}", new byte[3]));
        m.put("metadata-not-object.safetensors", st("{\"__metadata__\":\"x\"}"));
        m.put("metadata-value-not-string.safetensors", st("{\"__metadata__\":{\"k\":1}}"));
        return m;
    }

    private static String entry(String dtype, String shape, String offsets) {
        return "{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    /** One tensor 'a' with raw JSON values for its fields, and a zeroed buffer of the given size. */
    private static byte[] one(String dtype, String shape, String offsets, int bufferLength) {
        return st("{\"a\":{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}",
                new byte[bufferLength]);
    }

    private static byte[] st(String json) {
        return st(json, new byte[0]);
    }

    private static byte[] st(String json, byte[] data) {
        return safetensors(json, data);
    }
}
