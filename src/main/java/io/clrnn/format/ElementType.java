package io.clrnn.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.ShortBuffer;

/** The floating-point element types clrnn reads from files, each decoded to float32. */
enum ElementType {
    F32(4, "float32"),
    F64(8, "float64"),
    F16(2, "float16"),
    BF16(2, "bfloat16");

    final int size;
    /** PyTorch's name for the type, the one {@link WeightFile.Entry#dtype()} uses. */
    final String dtype;

    ElementType(int size, String dtype) {
        this.size = size;
        this.dtype = dtype;
    }

    /**
     * The type a tensor of {@code dtype} (in torch's words) decodes from; a FormatException naming
     * the file and the tensor when it is not one of the floating-point types clrnn reads.
     */
    static ElementType ofTensor(String dtype, String file, String tensor) {
        for (ElementType t : values()) {
            if (t.dtype.equals(dtype)) {
                return t;
            }
        }
        throw FormatException.of(file, "tensor " + FormatException.quote(tensor) + " is " + dtype
                + "; clrnn reads float32, float16, bfloat16 and float64 tensors");
    }

    /**
     * Decodes {@code count} elements starting at {@code offset}. The caller has checked that
     * {@code count * size} bytes are there.
     */
    float[] decode(byte[] bytes, int offset, int count, ByteOrder order) {
        ByteBuffer buf = ByteBuffer.wrap(bytes, offset, count * size).slice().order(order);
        float[] out = new float[count];
        switch (this) {
            case F32 -> buf.asFloatBuffer().get(out);
            case F64 -> {
                DoubleBuffer d = buf.asDoubleBuffer();
                for (int i = 0; i < count; i++) {
                    out[i] = (float) d.get(i);
                }
            }
            case F16 -> {
                ShortBuffer s = buf.asShortBuffer();
                for (int i = 0; i < count; i++) {
                    out[i] = Half.toFloat(s.get(i));
                }
            }
            case BF16 -> {
                ShortBuffer s = buf.asShortBuffer();
                for (int i = 0; i < count; i++) {
                    // bfloat16 is the top half of a float32, so widening is exact.
                    out[i] = Half.bfloat16ToFloat(s.get(i));
                }
            }
        }
        return out;
    }

    /** Element {@code index} of {@code buf}, which starts at element 0 and has the file's byte order. */
    float at(ByteBuffer buf, int index) {
        return switch (this) {
            case F32 -> buf.getFloat(index * 4);
            case F64 -> (float) buf.getDouble(index * 8);
            case F16 -> Half.toFloat(buf.getShort(index * 2));
            case BF16 -> Half.bfloat16ToFloat(buf.getShort(index * 2));
        };
    }
}
