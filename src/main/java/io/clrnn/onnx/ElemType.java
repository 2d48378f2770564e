package io.clrnn.onnx;

/**
 * The ONNX tensor element types clrnn reads (TensorProto.DataType), with their size in raw_data. The
 * floating-point ones become float32 {@link io.clrnn.Tensor}s, the integer and bool ones {@link IntTensor}s.
 */
enum ElemType {
    FLOAT(1, 4, "float32"), UINT8(2, 1, "uint8"), INT8(3, 1, "int8"), UINT16(4, 2, "uint16"), INT16(5, 2, "int16"),
    INT32(6, 4, "int32"), INT64(7, 8, "int64"), BOOL(9, 1, "bool"), FLOAT16(10, 2, "float16"),
    DOUBLE(11, 8, "float64"), UINT32(12, 4, "uint32"), UINT64(13, 8, "uint64"), BFLOAT16(16, 2, "bfloat16");

    final int code;
    final int size;
    final String label;

    ElemType(int code, int size, String label) {
        this.code = code;
        this.size = size;
        this.label = label;
    }

    boolean isFloat() {
        return this == FLOAT || this == FLOAT16 || this == DOUBLE || this == BFLOAT16;
    }

    /** The type of a DataType code, or null for one clrnn does not read (string, complex, float8, int4...). */
    static ElemType of(int code) {
        for (ElemType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }

    /** The type {@link #label} names, or null for none of these (a type clrnn does not read). */
    static ElemType ofLabel(String label) {
        for (ElemType t : values()) {
            if (t.label.equals(label)) {
                return t;
            }
        }
        return null;
    }

    /** A DataType code in words, for messages; also for the types clrnn does not read. */
    static String label(int code) {
        ElemType t = of(code);
        if (t != null) {
            return t.label;
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

    /** Wraps a signed 64-bit value to this integer type, as a C cast to it does. */
    long wrap(long v) {
        return switch (this) {
            case UINT8 -> v & 0xFF;
            case INT8 -> (byte) v;
            case UINT16 -> v & 0xFFFF;
            case INT16 -> (short) v;
            case INT32 -> (int) v;
            case UINT32 -> v & 0xFFFF_FFFFL;
            case BOOL -> v != 0 ? 1 : 0;
            default -> v;
        };
    }
}
