package io.clrnn.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** float32 to binary16: every half survives the round trip; everything else goes to the nearest, ties to even. */
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
}
