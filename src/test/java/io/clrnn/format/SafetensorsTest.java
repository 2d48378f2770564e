package io.clrnn.format;

import static io.clrnn.format.FormatFixtures.f32;
import static io.clrnn.format.FormatFixtures.f64;
import static io.clrnn.format.FormatFixtures.safetensors;
import static io.clrnn.format.FormatFixtures.u16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.base.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Safetensors against hand-built files with known values, and write/read round trips. */
class SafetensorsTest {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @TempDir
    Path dir;

    @Test
    void roundTripThroughAFileKeepsOrderShapesValuesAndMetadata() throws Exception {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("weight_ih_l0", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
        tensors.put("scalar", Tensor.of(new float[] {7.5f}));
        tensors.put("empty", Tensor.zeros(0, 4));
        tensors.put("bias", Tensor.of(new float[] {-1, Float.NaN, Float.NEGATIVE_INFINITY}, 3));
        tensors.put("also-empty", Tensor.zeros(0));
        tensors.put("deep", Tensor.of(new float[] {9}, 1, 1, 1, 1, 1));
        Map<String, String> metadata = Map.of("format", "pt", "note", "caf\u00e9");
        Path p = dir.resolve("m.safetensors");
        Safetensors.write(p, tensors, metadata);

        SafetensorsFile f = Safetensors.readFile(p);
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(f.tensors().keySet()));
        for (String name : tensors.keySet()) {
            assertArrayEquals(tensors.get(name).shape(), f.tensors().get(name).shape(), name);
            assertArrayEquals(tensors.get(name).data(), f.tensors().get(name).data(), name);
        }
        assertEquals(metadata, f.metadata());
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(Safetensors.read(p).keySet()));
    }

    @Test
    void emptyFileOfNoTensorsRoundTrips() {
        SafetensorsFile f = Safetensors.readFile(Safetensors.toBytes(Map.of(), null), "e.safetensors");
        assertTrue(f.tensors().isEmpty());
        assertTrue(f.metadata().isEmpty());
    }

    @Test
    void writesCompactJsonPaddedWithSpacesToEightBytes() {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("b", Tensor.of(new float[] {1, 2}, 2));
        tensors.put("a", Tensor.of(new float[] {3}));
        byte[] bytes = Safetensors.toBytes(tensors, Map.of("k", "v"));
        String json = "{\"__metadata__\":{\"k\":\"v\"},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]}}";
        int padded = (json.length() + 7) / 8 * 8;
        assertEquals(padded, ByteBuffer.wrap(bytes).order(LE).getLong(0));
        assertEquals(json + " ".repeat(padded - json.length()), new String(bytes, 8, padded, StandardCharsets.UTF_8));
        byte[] data = new byte[12];
        System.arraycopy(bytes, 8 + padded, data, 0, 12);
        assertArrayEquals(f32(LE, 1, 2, 3), data);
    }

    @Test
    void readsTensorsInDataOffsetOrderNotHeaderOrder() {
        String json = "{\"second\":" + entry("F32", "[1]", 4, 8) + ",\"first\":" + entry("F32", "[1]", 0, 4) + "}";
        Map<String, Tensor> t = Safetensors.read(safetensors(json, f32(LE, 1, 2)), "o.safetensors");
        assertEquals(List.of("first", "second"), List.copyOf(t.keySet()));
        assertArrayEquals(new float[] {2}, t.get("second").data());
    }

    @Test
    void float16IsWidened() {
        String json = "{\"h\":" + entry("F16", "[2, 2]", 0, 8) + "}";
        Tensor t = Safetensors.read(safetensors(json, u16(LE, 0x3C00, 0xC000, 0x7C00, 0x0001)), "h.safetensors").get("h");
        assertArrayEquals(new int[] {2, 2}, t.shape());
        assertArrayEquals(new float[] {1f, -2f, Float.POSITIVE_INFINITY, 5.9604645e-8f}, t.data());
    }

    @Test
    void bfloat16IsWidened() {
        String json = "{\"b\":" + entry("BF16", "[4]", 0, 8) + "}";
        Tensor t = Safetensors.read(safetensors(json, u16(LE, 0x3F80, 0xC000, 0xFF80, 0x0001)), "b.safetensors").get("b");
        // 0x0001 is the smallest bf16 subnormal: float32 bits 0x00010000.
        assertArrayEquals(new float[] {1f, -2f, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x10000)}, t.data());
    }

    @Test
    void float64IsNarrowed() {
        String json = "{\"d\":" + entry("F64", "[3]", 0, 24) + "}";
        Tensor t = Safetensors.read(safetensors(json, f64(LE, 0.1, -3.0, 1e300)), "d.safetensors").get("d");
        assertArrayEquals(new float[] {0.1f, -3f, Float.POSITIVE_INFINITY}, t.data());
    }

    @Test
    void mixedDtypesTileTheBuffer() {
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":" + entry("F16", "[1]", 0, 2) + ",\"b\":"
                + entry("BF16", "[1]", 2, 4) + ",\"c\":" + entry("F32", "[1]", 4, 8) + ",\"d\":" + entry("F64", "[]", 8, 16)
                + ",\"z\":" + entry("F32", "[0, 7]", 16, 16) + "}";
        byte[] data = FormatFixtures.concat(u16(LE, 0x3C00), u16(LE, 0x4000), f32(LE, 3), f64(LE, 4));
        SafetensorsFile f = Safetensors.readFile(safetensors(json, data), "mix.safetensors");
        assertEquals(Map.of("format", "pt"), f.metadata());
        assertArrayEquals(new float[] {1}, f.tensors().get("a").data());
        assertArrayEquals(new float[] {2}, f.tensors().get("b").data());
        assertArrayEquals(new float[] {3}, f.tensors().get("c").data());
        assertArrayEquals(new float[] {4}, f.tensors().get("d").data());
        assertArrayEquals(new int[] {}, f.tensors().get("d").shape());
        assertArrayEquals(new int[] {0, 7}, f.tensors().get("z").shape());
    }

    @Test
    void headerMayBePaddedWithSpaces() {
        String json = "{\"a\":" + entry("F32", "[1]", 0, 4) + "}    ";
        assertArrayEquals(new float[] {5}, Safetensors.read(safetensors(json, f32(LE, 5)), "p.safetensors").get("a").data());
    }

    @Test
    void zeroElementTensorsMaySitAnywhereTheyDoNotSplitAnother() {
        String json = "{\"a\":" + entry("F32", "[1]", 0, 4) + ",\"e\":" + entry("F32", "[0]", 4, 4) + ",\"b\":"
                + entry("F32", "[1]", 4, 8) + "}";
        assertEquals(3, Safetensors.read(safetensors(json, f32(LE, 1, 2)), "z.safetensors").size());
        String inside = "{\"a\":" + entry("F32", "[2]", 0, 8) + ",\"e\":" + entry("F32", "[0]", 4, 4) + "}";
        assertThrows(FormatException.class, () -> Safetensors.read(safetensors(inside, f32(LE, 1, 2)), "z.safetensors"));
    }

    @Test
    void aLyingShapeIsRefusedBeforeAnythingIsAllocated() {
        String json = "{\"a\":" + entry("F32", "[536870911]", 0, 4) + "}";
        FormatException e = assertThrows(FormatException.class,
                () -> Safetensors.read(safetensors(json, f32(LE, 1)), "big.safetensors"));
        assertTrue(e.getMessage().contains("needs 2147483644 bytes but data_offsets span 4"), e.getMessage());
    }

    @Test
    void openListsEveryDtypeAndDecodesOnlyFloatsWhenAsked() {
        // A whole-model state_dict: a float weight beside int64, bool and uint8 buffers.
        String json = "{\"w\":" + entry("F32", "[2]", 0, 8) + ",\"n\":" + entry("I64", "[]", 8, 16)
                + ",\"m\":" + entry("BOOL", "[3]", 16, 19) + ",\"q\":" + entry("U8", "[1]", 19, 20) + "}";
        byte[] data = FormatFixtures.concat(f32(LE, 1, 2), new byte[12]);
        WeightFile w = Safetensors.open(safetensors(json, data), "sd.safetensors");
        assertEquals("safetensors", w.format());
        assertEquals(List.of(new WeightFile.Entry("w", "float32", new int[] {2}), new WeightFile.Entry("n", "int64", new int[0]),
                new WeightFile.Entry("m", "bool", new int[] {3}), new WeightFile.Entry("q", "uint8", new int[] {1})), w.entries());
        assertArrayEquals(new float[] {1, 2}, w.tensor("w").data());
        FormatException e = assertThrows(FormatException.class, () -> w.tensor("n"));
        assertEquals("sd.safetensors: tensor 'n' is int64; clrnn reads float32, float16, bfloat16 and float64 tensors",
                e.getMessage());
        e = assertThrows(FormatException.class, () -> w.tensor("absent"));
        assertEquals("sd.safetensors: no tensor named 'absent'", e.getMessage());
        // read() decodes every tensor, so the same file is refused there, naming the first integer one.
        e = assertThrows(FormatException.class, () -> Safetensors.read(safetensors(json, data), "sd.safetensors"));
        assertTrue(e.getMessage().startsWith("sd.safetensors: tensor 'n' is int64"), e.getMessage());
    }

    @Test
    void subByteDtypesPackAndMustFillWholeBytes() {
        WeightFile w = Safetensors.open(safetensors("{\"a\":" + entry("F4", "[4]", 0, 2) + "}", new byte[2]), "f4.safetensors");
        assertEquals("float4_e2m1fn", w.entries().get(0).dtype());
        FormatException e = assertThrows(FormatException.class, () -> Safetensors.open(
                safetensors("{\"a\":" + entry("F6_E2M3", "[3]", 0, 3) + "}", new byte[3]), "f6.safetensors"));
        assertTrue(e.getMessage().contains("does not fill a whole number of bytes"), e.getMessage());
    }

    @Test
    void writeRefusesATensorNamedLikeTheMetadata() {
        assertThrows(IllegalArgumentException.class,
                () -> Safetensors.toBytes(Map.of("__metadata__", Tensor.zeros(1)), null));
    }

    private static String entry(String dtype, String shape, long begin, long end) {
        return "{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }
}
