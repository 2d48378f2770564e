package io.clrnn.format;

import io.clrnn.base.Half;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * float32 to binary16: every half survives the round trip; everything else goes to the nearest, ties to even.
 * float32 rounded to bfloat16 the same way.
 */
class HalfTest {
    @Test
    void everyHalfValueRoundTrips() {
        for (int bits = 0; bits < 0x10000; bits++) {
            float f = Half.toFloat((short) bits);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Half.toFloat(Half.fromFloat(f))), "NaN stays NaN: " + bits);
            } else {
                assertEquals(bits, Half.fromFloat(f) & 0xFFFF, "half bits " + Integer.toHexString(bits));
            }
        }
    }

    @Test
    void floatsBetweenTwoHalvesGoToTheNearestTiesToEven() {
        for (int bits = 0; bits < 0x7BFF; bits++) { // positive finite halves below the largest
            float lo = Half.toFloat((short) bits);
            float hi = Half.toFloat((short) (bits + 1));
            float mid = (float) (((double) lo + hi) / 2);
            int even = (bits & 1) == 0 ? bits : bits + 1;
            assertEquals(even, Half.fromFloat(mid) & 0xFFFF, "midpoint of " + Integer.toHexString(bits));
            assertEquals(bits, Half.fromFloat(Math.nextDown(mid)) & 0xFFFF, "just below the midpoint");
            assertEquals(bits + 1, Half.fromFloat(Math.nextUp(mid)) & 0xFFFF, "just above the midpoint");
        }
    }

    @Test
    void tooLargeIsInfinityAndTooSmallIsZero() {
        assertEquals(0x7C00, Half.fromFloat(70000f) & 0xFFFF);
        assertEquals(0xFC00, Half.fromFloat(-1e30f) & 0xFFFF);
        assertEquals(0x0000, Half.fromFloat(1e-10f) & 0xFFFF);
        assertEquals(0x8000, Half.fromFloat(-0.0f) & 0xFFFF);
        assertEquals(0x7C00, Half.fromFloat(Float.POSITIVE_INFINITY) & 0xFFFF);
    }

    @Test
    void bfloat16RoundsToNearestTiesToEven() {
        // 1 + 2^-8 lies halfway between 1 (even) and 1 + 2^-7 (odd): ties go to 1.
        assertEquals(1f, Half.roundToBfloat16(1f + 0x1p-8f));
        assertEquals(1f + 0x1p-7f, Half.roundToBfloat16(Math.nextUp(1f + 0x1p-8f)));
        // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): ties go up.
        assertEquals(1f + 0x1p-6f, Half.roundToBfloat16(1f + 3 * 0x1p-8f));
        assertEquals(-1f, Half.roundToBfloat16(-1f - 0x1p-8f));
        for (int bits = 0; bits < 0x10000; bits += 7) {
            float exact = Half.bfloat16ToFloat((short) bits);
            if (!Float.isNaN(exact)) {
                assertEquals(exact, Half.roundToBfloat16(exact), "bfloat16 " + Integer.toHexString(bits));
            }
        }
        assertEquals(Float.POSITIVE_INFINITY, Half.roundToBfloat16(Float.MAX_VALUE));
        assertEquals(Float.floatToRawIntBits(Float.NaN), Float.floatToRawIntBits(Half.roundToBfloat16(Float.NaN)));
        float payload = Float.intBitsToFloat(0x7F80_0001); // a NaN whose payload lies below bfloat16's bits
        assertTrue(Float.isNaN(Half.roundToBfloat16(payload)));
    }
}
