package io.clrnn.engine;

/**
 * float32 to IEEE 754 binary16, rounding to nearest even as hardware does (Java 17 has no
 * Float.floatToFloat16; Java 20 does). Used once per weight, when a module stores its weights as half.
 */
final class Half {
    private Half() {}

    static short fromFloat(float value) {
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
