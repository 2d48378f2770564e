package io.clrnn.format;

import io.clrnn.base.Half;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Every element type a file clrnn reads may name, once, with what each format calls it: ONNX's
 * TensorProto.DataType code, safetensors' dtype string and torch's storage class. clrnn decodes the
 * floating-point ones (float32, float64, float16, bfloat16) to float32; ONNX's integer and bool tensors
 * it reads as longs; the rest it lists (safetensors, torch.save) or names in a refusal.
 */
public enum ElementType {
    // dtype, bits, ONNX's code (0, ONNX's "undefined": not read from ONNX), safetensors' dtype, torch's storage class
    F32("float32", 32, 1, "F32", "FloatStorage"),
    F64("float64", 64, 11, "F64", "DoubleStorage"),
    F16("float16", 16, 10, "F16", "HalfStorage"),
    BF16("bfloat16", 16, 16, "BF16", "BFloat16Storage"),
    I64("int64", 64, 7, "I64", "LongStorage"),
    I32("int32", 32, 6, "I32", "IntStorage"),
    I16("int16", 16, 5, "I16", "ShortStorage"),
    I8("int8", 8, 3, "I8", "CharStorage"),
    U64("uint64", 64, 13, "U64", null),
    U32("uint32", 32, 12, "U32", null),
    U16("uint16", 16, 4, "U16", null),
    U8("uint8", 8, 2, "U8", "ByteStorage"),
    BOOL("bool", 8, 9, "BOOL", "BoolStorage"),
    // Listed only: clrnn decodes none of these, nor reads them from ONNX (onnxName names their codes).
    C64("complex64", 64, 0, "C64", "ComplexFloatStorage"),
    C128("complex128", 128, 0, null, "ComplexDoubleStorage"),
    F8_E5M2("float8_e5m2", 8, 0, "F8_E5M2", null),
    F8_E4M3("float8_e4m3fn", 8, 0, "F8_E4M3", null),
    F8_E8M0("float8_e8m0fnu", 8, 0, "F8_E8M0", null),
    // Sub-byte types pack several elements into a byte.
    F6_E2M3("float6_e2m3fn", 6, 0, "F6_E2M3", null),
    F6_E3M2("float6_e3m2fn", 6, 0, "F6_E3M2", null),
    F4("float4_e2m1fn", 4, 0, "F4", null);

    private final String dtype;
    private final int bits;
    private final int onnxCode;
    private final String safetensors;
    private final String torchStorage;

    ElementType(String dtype, int bits, int onnxCode, String safetensors, String torchStorage) {
        this.dtype = dtype;
        this.bits = bits;
        this.onnxCode = onnxCode;
        this.safetensors = safetensors;
        this.torchStorage = torchStorage;
    }

    /**
     * The type's name in torch's words, which ONNX's messages use too (float32, bfloat16, int64): the one
     * {@link WeightFile.Entry#dtype()} and every message give.
     */
    public String dtype() {
        return dtype;
    }

    /** Bytes per element; for the sub-byte types (float6, float4) a count of elements needs {@link #bits()}. */
    public int size() {
        return bits / 8;
    }

    /** Bits per element. */
    int bits() {
        return bits;
    }

    /** Whether clrnn reads it as float32: float32, float64, float16 and bfloat16 (float8, float6, float4 it only lists). */
    public boolean isFloat() {
        return this == F32 || this == F64 || this == F16 || this == BF16;
    }

    /** The type named {@code dtype} in torch's words, or null for none. */
    public static ElementType ofDtype(String dtype) {
        for (ElementType t : values()) {
            if (t.dtype.equals(dtype)) {
                return t;
            }
        }
        return null;
    }

    /** The type of an ONNX TensorProto.DataType code, or null for one clrnn does not read (string, complex, float8...). */
    public static ElementType ofOnnx(int code) {
        for (ElementType t : values()) {
            if (t.onnxCode != 0 && t.onnxCode == code) {
                return t;
            }
        }
        return null;
    }

    /** An ONNX DataType code in words, for messages; also for the types clrnn does not read. */
    public static String onnxName(int code) {
        ElementType t = ofOnnx(code);
        if (t != null) {
            return t.dtype;
        }
        return switch (code) {
            case 0 -> "undefined";
            case 8 -> "string";
            case 14 -> "complex64";
            case 15 -> "complex128";
            case 17, 18, 19, 20, 24 -> "float8";
            case 21 -> "uint4";
            case 22 -> "int4";
            case 23 -> "float4";
            default -> "data type " + code;
        };
    }

    /** The type a safetensors header's dtype string names (F32, BF16, I64...), or null for none. */
    static ElementType ofSafetensors(String code) {
        for (ElementType t : values()) {
            if (code.equals(t.safetensors)) {
                return t;
            }
        }
        return null;
    }

    /** torch's storage class of the type (FloatStorage, without torch.), or null for a type torch has none of. */
    String torchStorage() {
        return torchStorage;
    }

    /**
     * Refuses to decode a type that is not floating-point: a FormatException naming the file and the
     * tensor, which {@link WeightFile#tensor} lists but cannot give as float32.
     */
    void requireFloat(String file, String tensor) {
        if (!isFloat()) {
            throw FormatException.of(file, "tensor " + FormatException.quote(tensor) + " is " + dtype
                    + "; clrnn reads float32, float16, bfloat16 and float64 tensors");
        }
    }

    /**
     * Decodes {@code count} floating-point elements from {@code buf}'s position on, in its byte order, as float32;
     * the buffer is left as it was. The caller has checked that {@code count * size()} bytes are there.
     */
    public float[] decode(ByteBuffer buf, int count) {
        ByteBuffer b = buf.slice().order(buf.order());
        float[] out = new float[count];
        if (this == F32) {
            b.asFloatBuffer().get(out);
        } else {
            for (int i = 0; i < count; i++) {
                out[i] = at(b, i);
            }
        }
        return out;
    }

    /** {@link #decode(ByteBuffer, int)} of the bytes from {@code offset} on in {@code order}. */
    float[] decode(byte[] bytes, int offset, int count, ByteOrder order) {
        return decode(ByteBuffer.wrap(bytes, offset, count * size()).order(order), count);
    }

    /** Element {@code index} of {@code buf}, which starts at element 0 and has the file's byte order. */
    float at(ByteBuffer buf, int index) {
        return switch (this) {
            case F32 -> buf.getFloat(index * 4);
            case F64 -> (float) buf.getDouble(index * 8);
            case F16, BF16 -> widen(buf.getShort(index * 2));
            default -> throw new IllegalStateException(dtype + " is not decoded to float32");
        };
    }

    /** A float16 or bfloat16 element, from its 16 bits, as float32 (exactly: every such value is a float). */
    public float widen(short bits) {
        return switch (this) {
            case F16 -> Half.toFloat(bits);
            case BF16 -> Half.bfloat16ToFloat(bits);
            default -> throw new IllegalStateException(dtype + " is not a 16-bit float type");
        };
    }

    /** Wraps a signed 64-bit value to this integer (or bool) type, as a C cast to it does. */
    public long wrap(long v) {
        return switch (this) {
            case U8 -> v & 0xFF;
            case I8 -> (byte) v;
            case U16 -> v & 0xFFFF;
            case I16 -> (short) v;
            case I32 -> (int) v;
            case U32 -> v & 0xFFFF_FFFFL;
            case BOOL -> v != 0 ? 1 : 0;
            default -> v;
        };
    }
}
