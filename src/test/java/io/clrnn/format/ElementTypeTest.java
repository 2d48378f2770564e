package io.clrnn.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The half-precision conversion, checked on every one of the 65536 bit patterns. */
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
}
