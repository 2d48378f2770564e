package io.clrnn;

import io.clrnn.base.RnnOutput;
import io.clrnn.base.Tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

/** Tensor comparison with stated tolerances: |a - e| <= atol + rtol * |e|, NaN only where expected. */
public final class Assertions2 {
    /** OpenCL float32 against PyTorch float32. */
    public static final double ATOL = 1e-5;
    public static final double RTOL = 1e-4;
    /** OpenCL float32 against the double-precision Java reference: twice the worst error measured (9.5e-7) over every variant, tile and fixture. */
    public static final double REF_ATOL = 2e-6;
    public static final double REF_RTOL = 2e-6;

    private Assertions2() {}

    public static void assertClose(Tensor expected, Tensor actual, String what) {
        assertClose(expected, actual, ATOL, RTOL, what);
    }

    public static void assertClose(Tensor expected, Tensor actual, double atol, double rtol, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.data();
        float[] a = actual.data();
        for (int i = 0; i < e.length; i++) {
            boolean ok = Float.isNaN(e[i]) ? Float.isNaN(a[i])
                    : Float.isInfinite(e[i]) ? e[i] == a[i]
                    : Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]);
            if (!ok) {
                fail(String.format("%s: element %d of %s differs: expected %s, got %s (atol %g, rtol %g)",
                        what, i, Tensor.format(expected.shape()), e[i], a[i], atol, rtol));
            }
        }
    }

    /**
     * A forward's out, h_n and c_n, each as {@link #assertClose(Tensor, Tensor, double, double, String)}; c_n when
     * {@code expected} has one (then {@code actual} must have one too), and none in {@code actual} when it has not.
     * Messages name the field, then {@code what}: "out, with lengths".
     */
    public static void assertClose(RnnOutput expected, RnnOutput actual, double atol, double rtol, String what) {
        String suffix = what.isEmpty() ? "" : ", " + what;
        assertClose(expected.output(), actual.output(), atol, rtol, "out" + suffix);
        assertClose(expected.hidden(), actual.hidden(), atol, rtol, "h_n" + suffix);
        if (expected.cell() != null) {
            assertNotNull(actual.cell(), "c_n" + suffix + ": expected a cell state, got none");
            assertClose(expected.cell(), actual.cell(), atol, rtol, "c_n" + suffix);
        } else {
            assertNull(actual.cell(), "c_n" + suffix + ": expected no cell state");
        }
    }
}
