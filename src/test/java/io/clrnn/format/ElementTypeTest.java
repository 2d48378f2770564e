package io.clrnn.format;

import io.clrnn.base.Half;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one table of element types: each format's names for a type, as the formats' own tables had them, and
 * the decoding to float32; the half-precision conversion, checked on every one of the 65536 bit patterns.
 */
class ElementTypeTest {
    @Test
    void halfToFloatMatchesTheDefinitionForEveryBitPattern() {
        for (int bits = 0; bits < 0x10000; bits++) {
            int sign = bits >>> 15;
            int exponent = (bits >>> 10) & 0x1F;
            int mantissa = bits & 0x3FF;
            float actual = Half.toFloat((short) bits);
            if (exponent == 0x1F) {
                assertTrue(mantissa == 0 ? Float.isInfinite(actual) : Float.isNaN(actual), Integer.toHexString(bits));
                if (mantissa == 0) {
                    assertEquals(sign == 1 ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY, actual);
                }
                continue;
            }
            // IEEE 754 binary16: subnormals are mantissa * 2^-24, normals (1024 + mantissa) * 2^(exponent - 25).
            double magnitude = exponent == 0 ? Math.scalb((double) mantissa, -24) : Math.scalb(1024.0 + mantissa, exponent - 25);
            double expected = sign == 1 ? -magnitude : magnitude;
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual), Integer.toHexString(bits));
        }
    }

    @Test
    void onnxCodesAndNames() {
        Map<Integer, String> read = new TreeMap<>();
        for (int code = -1; code < 40; code++) {
            ElementType t = ElementType.ofOnnx(code);
            if (t != null) {
                read.put(code, t.dtype() + "/" + t.size());
            }
        }
        assertEquals(Map.ofEntries(Map.entry(1, "float32/4"), Map.entry(2, "uint8/1"), Map.entry(3, "int8/1"),
                Map.entry(4, "uint16/2"), Map.entry(5, "int16/2"), Map.entry(6, "int32/4"), Map.entry(7, "int64/8"),
                Map.entry(9, "bool/1"), Map.entry(10, "float16/2"), Map.entry(11, "float64/8"), Map.entry(12, "uint32/4"),
                Map.entry(13, "uint64/8"), Map.entry(16, "bfloat16/2")), read);
        assertEquals("undefined", ElementType.onnxName(0));
        assertEquals("string", ElementType.onnxName(8));
        assertEquals("complex64", ElementType.onnxName(14));
        assertEquals("float8", ElementType.onnxName(19));
        assertEquals("data type 99", ElementType.onnxName(99));
    }

    @Test
    void safetensorsCodesAndTorchStorages() {
        Map<String, String> safetensors = new TreeMap<>();
        Map<String, String> torch = new TreeMap<>();
        for (ElementType t : ElementType.values()) {
            for (String code : new String[] {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U64", "U32", "U16",
                    "U8", "BOOL", "C64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4"}) {
                if (ElementType.ofSafetensors(code) == t) {
                    safetensors.put(code, t.dtype() + "/" + t.bits());
                }
            }
            if (t.torchStorage() != null) {
                torch.put(t.torchStorage(), t.dtype() + "/" + t.size());
            }
        }
        assertEquals(new TreeMap<>(Map.ofEntries(Map.entry("F64", "float64/64"), Map.entry("F32", "float32/32"),
                Map.entry("F16", "float16/16"), Map.entry("BF16", "bfloat16/16"), Map.entry("I64", "int64/64"),
                Map.entry("I32", "int32/32"), Map.entry("I16", "int16/16"), Map.entry("I8", "int8/8"),
                Map.entry("U64", "uint64/64"), Map.entry("U32", "uint32/32"), Map.entry("U16", "uint16/16"),
                Map.entry("U8", "uint8/8"), Map.entry("BOOL", "bool/8"), Map.entry("C64", "complex64/64"),
                Map.entry("F8_E5M2", "float8_e5m2/8"), Map.entry("F8_E4M3", "float8_e4m3fn/8"),
                Map.entry("F8_E8M0", "float8_e8m0fnu/8"), Map.entry("F6_E2M3", "float6_e2m3fn/6"),
                Map.entry("F6_E3M2", "float6_e3m2fn/6"), Map.entry("F4", "float4_e2m1fn/4"))), safetensors);
        assertNull(ElementType.ofSafetensors("C128"));
        assertEquals(new TreeMap<>(Map.ofEntries(Map.entry("FloatStorage", "float32/4"), Map.entry("DoubleStorage", "float64/8"),
                Map.entry("HalfStorage", "float16/2"), Map.entry("BFloat16Storage", "bfloat16/2"),
                Map.entry("LongStorage", "int64/8"), Map.entry("IntStorage", "int32/4"), Map.entry("ShortStorage", "int16/2"),
                Map.entry("CharStorage", "int8/1"), Map.entry("ByteStorage", "uint8/1"), Map.entry("BoolStorage", "bool/1"),
                Map.entry("ComplexFloatStorage", "complex64/8"), Map.entry("ComplexDoubleStorage", "complex128/16"))), torch);
    }

    @Test
    void decodesEachFloatTypeInEitherByteOrder() {
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            ByteBuffer b = ByteBuffer.allocate(64).order(order);
            b.putInt(0); // skipped: decoding starts at the buffer's position
            b.putFloat(1.5f).putFloat(-2f);
            b.putDouble(0.25).putDouble(-8);
            b.putShort(Half.fromFloat(3f)).putShort(Half.fromFloat(-0.5f));
            b.putShort((short) (Float.floatToIntBits(6f) >>> 16)).putShort((short) (Float.floatToIntBits(-1f) >>> 16));
            b.flip().position(4);
            assertArrayEquals(new float[] {1.5f, -2f}, ElementType.F32.decode(b, 2));
            assertEquals(4, b.position(), "decode leaves the buffer as it was");
            b.position(12);
            assertArrayEquals(new float[] {0.25f, -8f}, ElementType.F64.decode(b, 2));
            b.position(28);
            assertArrayEquals(new float[] {3f, -0.5f}, ElementType.F16.decode(b, 2));
            b.position(32);
            assertArrayEquals(new float[] {6f, -1f}, ElementType.BF16.decode(b, 2));
        }
    }

    @Test
    void onlyTheFloatTypesDecode() {
        for (ElementType t : ElementType.values()) {
            boolean decodes = t == ElementType.F32 || t == ElementType.F64 || t == ElementType.F16 || t == ElementType.BF16;
            assertEquals(decodes, t.isFloat(), t.dtype());
        }
        FormatException e = assertThrows(FormatException.class,
                () -> ElementType.I64.requireFloat("f.pt", "n"));
        assertEquals("f.pt: tensor 'n' is int64; clrnn reads float32, float16, bfloat16 and float64 tensors", e.getMessage());
    }

    @Test
    void torchAllowsEachDtypeAndStorageClassByName() {
        TorchGlobals globals = new TorchGlobals(1);
        for (String dtype : new String[] {"float16", "float32", "float64", "bfloat16", "complex32", "complex64",
                "complex128", "uint8", "int8", "int16", "int32", "int64", "bool"}) {
            assertEquals("torch.dtype", TorchGlobals.typeName(globals.global("torch", dtype)), dtype);
        }
        assertNull(globals.global("torch", "uint16"));
        assertNull(globals.global("torch", "float8_e5m2"));
        assertEquals(ElementType.BF16, globals.global("torch.cuda", "BFloat16Storage"));
        assertEquals(ElementType.C128, globals.global("torch", "ComplexDoubleStorage"));
    }
}
