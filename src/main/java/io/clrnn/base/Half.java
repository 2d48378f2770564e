package io.clrnn.base;

/**
 * IEEE 754 binary16 to and from float32 (Java 17 has neither; Java 20 does), and bfloat16 to and from
 * float32: reading float16 and bfloat16 weights from files, storing weights as half on a device and
 * ONNX's Cast to either, rounding to nearest even as hardware does.
 */
public final class Half {
    private Half() {}

    /** IEEE 754 binary16 to float32, exactly (every half value is a float). Java 17 lacks this. */
    public static float toFloat(short half) {
        int bits = half & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0x1F) {
            // Infinity (mantissa 0) or NaN; the payload moves to the top of the float mantissa.
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // Zero or subnormal: mantissa * 2^-24, exact in float (10 bits, power-of-two scale).
            float magnitude = mantissa * 0x1p-24f;
            return Float.intBitsToFloat(sign | Float.floatToRawIntBits(magnitude));
        }
        // Normal: rebias the exponent from 15 to 127.
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /** bfloat16 to float32, exactly: a bfloat16 is the high half of a float32. */
    public static float bfloat16ToFloat(short bfloat16) {
        return Float.intBitsToFloat((bfloat16 & 0xFFFF) << 16);
    }

    /** {@code x} rounded to the nearest bfloat16, ties to even, as a float32; NaN stays the same NaN. */
    public static float roundToBfloat16(float x) {
        if (Float.isNaN(x)) {
            return x; // rounding its bits could turn a NaN into infinity
        }
        int bits = Float.floatToRawIntBits(x);
        // Adding just under half a bfloat16 ulp, plus the kept last bit, rounds ties to even; overflow gives infinity.
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(rounded & 0xFFFF0000);
    }

    /** float32 to the nearest binary16, ties to even; overflow gives infinity, NaN stays NaN. */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = (bits >>> 23) & 0xFF;
        int mantissa = bits & 0x7F_FFFF;
        if (exponent == 0xFF) { // infinity, or NaN with a quiet bit kept
            return (short) (sign | 0x7C00 | (mantissa != 0 ? 0x200 | (mantissa >>> 13) : 0));
        }
        int e = exponent - 127 + 15;
        if (e >= 0x1F) { // too large: infinity
            return (short) (sign | 0x7C00);
        }
        if (e <= 0) { // subnormal half, or zero
            if (e < -10) {
                return (short) sign;
            }
            int m = mantissa | 0x80_0000; // the implicit leading one
            int shift = 14 - e;
            int half = m >>> shift;
            int rest = m & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rest > halfway || (rest == halfway && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (e << 10) | (mantissa >>> 13);
        int rest = mantissa & 0x1FFF;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
            half++; // may carry into the exponent, up to infinity: as it should
        }
        return (short) (sign | half);
    }
}
