package io.clrnn.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every committed corrupt file is refused with a FormatException that says what is wrong. */
class CorruptCorpusTest {
    private static final Map<String, String> NPY_FRAGMENTS = Map.ofEntries(
            Map.entry("empty.npy", "empty.npy: not a .npy file (bad magic)"),
            Map.entry("bad-magic.npy", "bad magic"),
            Map.entry("preamble-truncated.npy", "too short for a .npy preamble"),
            Map.entry("preamble-truncated-v2.npy", "too short for a .npy preamble"),
            Map.entry("unsupported-version-4.npy", "unsupported .npy format version 4.0"),
            Map.entry("unsupported-version-1.1.npy", "unsupported .npy format version 1.1"),
            Map.entry("header-length-over-limit.npy", "header length 20000 exceeds the limit of 10000 bytes"),
            Map.entry("header-past-eof.npy", "header length 500 runs past the end of the file"),
            Map.entry("header-not-dict.npy", "header-not-dict.npy: header is not a Python dict literal"),
            Map.entry("header-empty.npy", "header is not a Python dict literal"),
            Map.entry("header-unclosed-dict.npy", "header is not a valid Python literal: unexpected end of header"),
            Map.entry("header-unterminated-string.npy", "header is not a valid Python literal"),
            Map.entry("header-trailing-text.npy", "unexpected text after the dict"),
            Map.entry("header-not-utf8-v3.npy", "header is not valid UTF-8"),
            Map.entry("header-nested-too-deep.npy", "nested more than 16 levels deep"),
            Map.entry("header-key-not-string.npy", "dict key is not a string"),
            Map.entry("missing-key-shape.npy", "header is missing key 'shape'"),
            Map.entry("extra-key.npy", "header has unexpected key 'extra'"),
            Map.entry("duplicate-key.npy", "header has duplicate key 'shape'"),
            Map.entry("shape-not-tuple.npy", "header 'shape' is not a tuple"),
            Map.entry("shape-parenthesised-int.npy", "header 'shape' is not a tuple"),
            Map.entry("shape-not-ints.npy", "header 'shape' is not a tuple of ints"),
            Map.entry("shape-float.npy", "not an integer: '2.'"),
            Map.entry("shape-negative.npy", "negative dimension -2"),
            Map.entry("shape-overflow-elements.npy", "shape (65536, 65536) holds more than 2147483647 elements"),
            Map.entry("shape-overflow-bytes.npy", "shape (1073741824,) of <f4 needs 4294967296 bytes"),
            Map.entry("shape-dimension-too-large.npy", "dimension 3000000000, more than 2147483647"),
            Map.entry("shape-integer-too-large.npy", "integer '99999999999999999999' is too large"),
            Map.entry("fortran-order-not-bool.npy", "'fortran_order' is not True or False"),
            Map.entry("descr-not-string.npy", "header 'descr' is not a string"),
            Map.entry("dtype-object.npy", "unsupported dtype '|O'"),
            Map.entry("dtype-int32.npy", "unsupported dtype '<i4' (clrnn reads <f4, <f8, <f2"),
            Map.entry("dtype-bool.npy", "unsupported dtype '|b1'"),
            Map.entry("dtype-complex64.npy", "unsupported dtype '<c8'"),
            Map.entry("dtype-f4-without-byte-order.npy", "unsupported dtype '|f4'"),
            Map.entry("dtype-structured.npy", "unsupported structured dtype"),
            Map.entry("truncated-data.npy", "data is truncated: shape (2, 3) of <f4 needs 24 bytes, the file has 20"),
            Map.entry("trailing-bytes.npy", "trailing-bytes.npy: 4 trailing bytes after the data"));

    private static final Map<String, String> SAFETENSORS_FRAGMENTS = Map.ofEntries(
            Map.entry("empty.safetensors", "empty.safetensors: file is 0 bytes, shorter than the 8-byte header length"),
            Map.entry("shorter-than-length.safetensors", "file is 5 bytes"),
            Map.entry("header-length-over-limit.safetensors", "header length 200000000 exceeds the limit of 100000000 bytes"),
            Map.entry("header-length-u64-max.safetensors", "header length 18446744073709551615 exceeds the limit"),
            Map.entry("header-past-eof.safetensors", "header length 64 runs past the end of the file (10 bytes)"),
            Map.entry("header-not-utf8.safetensors", "header is not valid UTF-8"),
            Map.entry("header-empty.safetensors", "header is not a JSON object"),
            Map.entry("header-not-json.safetensors", "header is not valid JSON"),
            Map.entry("header-not-object.safetensors", "header is not a JSON object"),
            Map.entry("header-trailing-tokens.safetensors", "header is not valid JSON"),
            Map.entry("duplicate-tensor.safetensors", "Duplicate field 'a'"),
            Map.entry("duplicate-field.safetensors", "Duplicate field 'dtype'"),
            Map.entry("entry-not-object.safetensors", "entry for tensor 'a' is not a JSON object"),
            Map.entry("missing-dtype.safetensors", "tensor 'a' is missing field 'dtype'"),
            Map.entry("missing-shape.safetensors", "tensor 'a' is missing field 'shape'"),
            Map.entry("missing-data-offsets.safetensors", "tensor 'a' is missing field 'data_offsets'"),
            Map.entry("extra-field.safetensors", "tensor 'a' has unexpected field 'x'"),
            Map.entry("dtype-not-string.safetensors", "tensor 'a': dtype is not a string"),
            // Valid dtypes that are not decoded: read() decodes every tensor, so it refuses them by name.
            Map.entry("dtype-i64.safetensors", "tensor 'a' is int64; clrnn reads float32, float16, bfloat16 and float64 tensors"),
            Map.entry("dtype-bool.safetensors", "tensor 'a' is bool; clrnn reads"),
            Map.entry("dtype-u8.safetensors", "tensor 'a' is uint8; clrnn reads"),
            Map.entry("dtype-f8-e4m3.safetensors", "tensor 'a' is float8_e4m3fn; clrnn reads"),
            Map.entry("dtype-unknown.safetensors", "unknown dtype 'F128' for tensor 'a'"),
            Map.entry("dtype-lowercase.safetensors", "unknown dtype 'f32' for tensor 'a'"),
            Map.entry("shape-not-array.safetensors", "tensor 'a': shape is not an array"),
            Map.entry("shape-not-integer.safetensors", "tensor 'a': shape holds number where an integer belongs"),
            Map.entry("shape-string.safetensors", "tensor 'a': shape holds string where an integer belongs"),
            Map.entry("shape-negative.safetensors", "tensor 'a': shape holds negative value -1"),
            Map.entry("shape-dimension-too-large.safetensors", "shape dimension 3000000000 is more than 2147483647"),
            Map.entry("shape-overflow.safetensors", "overflows"),
            Map.entry("shape-too-many-elements.safetensors", "shape [65536, 65536] holds more than 2147483647 elements"),
            Map.entry("size-mismatch.safetensors", "shape [2, 3] of F32 needs 24 bytes but data_offsets span 20"),
            Map.entry("offsets-not-pair.safetensors", "data_offsets is not an array of two integers"),
            Map.entry("offsets-negative.safetensors", "data_offsets holds negative value -4"),
            Map.entry("offsets-not-integer.safetensors", "data_offsets holds number where an integer belongs"),
            Map.entry("offsets-integer-too-large.safetensors", "data_offsets holds integer '99999999999999999999', too large"),
            Map.entry("offsets-begin-after-end.safetensors", "data_offsets begin 4 is after end 0"),
            Map.entry("offsets-past-end.safetensors", "data_offsets end 8 runs past the end of the data buffer (4 bytes)"),
            Map.entry("offsets-overlap.safetensors", "data of tensor 'b' overlaps tensor 'a'"),
            Map.entry("offsets-gap.safetensors", "data offsets leave a gap of 4 bytes before tensor 'b'"),
            Map.entry("offsets-gap-at-start.safetensors", "gap of 4 bytes before tensor 'a'"),
            Map.entry("trailing-bytes.safetensors", "4 trailing bytes after the last tensor"),
            Map.entry("trailing-bytes-no-tensors.safetensors", "3 trailing bytes after the last tensor"),
            Map.entry("metadata-not-object.safetensors", "__metadata__ is not a JSON object"),
            Map.entry("metadata-value-not-string.safetensors", "__metadata__ value for 'k' is not a string"));

    static Stream<String> npyFiles() throws IOException {
        return list("npy").stream();
    }

    static Stream<String> safetensorsFiles() throws IOException {
        return list("safetensors").stream();
    }

    @ParameterizedTest
    @MethodSource("npyFiles")
    void npyCorpusFileIsRefused(String file) {
        FormatException e = assertThrows(FormatException.class, () -> Npy.read(path("npy", file)));
        assertOneLine(e);
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("safetensorsFiles")
    void safetensorsCorpusFileIsRefused(String file) {
        FormatException e = assertThrows(FormatException.class, () -> Safetensors.read(path("safetensors", file)));
        assertOneLine(e);
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("npyFiles")
    void npyMessageSaysWhatIsWrong(String file) {
        String fragment = NPY_FRAGMENTS.get(file);
        assertTrue(fragment != null, "no expected message for " + file);
        FormatException e = assertThrows(FormatException.class, () -> Npy.read(path("npy", file)));
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("safetensorsFiles")
    void safetensorsMessageSaysWhatIsWrong(String file) {
        String fragment = SAFETENSORS_FRAGMENTS.get(file);
        assertTrue(fragment != null, "no expected message for " + file);
        FormatException e = assertThrows(FormatException.class, () -> Safetensors.read(path("safetensors", file)));
        assertTrue(e.getMessage().contains(fragment), "expected '" + fragment + "' in: " + e.getMessage());
    }

    @Test
    void committedCorpusMatchesTheGenerator() throws IOException {
        assertMatches("npy", CorruptCorpusGenerator.npyFiles());
        assertMatches("safetensors", CorruptCorpusGenerator.safetensorsFiles());
    }

    @Test
    void everyExpectedMessageHasItsFile() throws IOException {
        assertEquals(new TreeSet<>(NPY_FRAGMENTS.keySet()), new TreeSet<>(list("npy")));
        assertEquals(new TreeSet<>(SAFETENSORS_FRAGMENTS.keySet()), new TreeSet<>(list("safetensors")));
    }

    private static void assertMatches(String folder, Map<String, byte[]> generated) throws IOException {
        assertEquals(new TreeSet<>(generated.keySet()), new TreeSet<>(list(folder)),
                "run CorruptCorpusGenerator and commit src/test/resources/corrupt");
        for (Map.Entry<String, byte[]> f : generated.entrySet()) {
            assertArrayEquals(f.getValue(), Files.readAllBytes(path(folder, f.getKey())), f.getKey());
        }
    }

    private static void assertOneLine(FormatException e) {
        String m = e.getMessage();
        assertFalse(m == null || m.isBlank(), "empty message");
        assertFalse(m.contains("\n") || m.contains("\r"), "message has several lines: " + m);
    }

    private static List<String> list(String folder) throws IOException {
        try (Stream<Path> files = Files.list(dir(folder))) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static Path path(String folder, String file) {
        return dir(folder).resolve(file);
    }

    private static Path dir(String folder) {
        return io.clrnn.TestResources.path("corrupt/" + folder);
    }
}
