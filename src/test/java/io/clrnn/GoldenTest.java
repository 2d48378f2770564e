package io.clrnn;

import io.clrnn.base.RnnOutput;
import io.clrnn.base.WeightsDtype;
import io.clrnn.device.Device;
import io.clrnn.model.ReferenceRnn;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every case recorded from real torch.nn.RNN, LSTM and GRU modules (lengths through torch's own
 * pack_padded_sequence path), on the OpenCL device and on the Java reference.
 */
class GoldenTest {
    private static final Device device = TestDevice.shared();


    static List<Fixtures.Case> cases() {
        return Fixtures.all();
    }

    @Test
    void theFixturesCoverEveryCellWithAndWithoutLengths() {
        for (io.clrnn.model.CellType mode : io.clrnn.model.CellType.values()) {
            assertTrue(cases().stream().anyMatch(c -> c.mode() == mode && c.hasLengths()), mode + " with lengths");
            assertTrue(cases().stream().anyMatch(c -> c.mode() == mode && !c.hasLengths()), mode + " without");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void openClMatchesTorch(Fixtures.Case c) throws IOException {
        try (Rnn rnn = Rnn.create(device, c.weights())) {
            check(c, rnn.forward(c.input()));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void referenceMatchesTorch(Fixtures.Case c) throws IOException {
        check(c, ReferenceRnn.forward(c.weights(), c.input()));
    }

    /**
     * Weights kept as half on the device: every case within 2e-3 of torch's float32 result (the worst measured
     * over all cases is 7.3e-4, on the lab's 128-wide input).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void halfWeightsStayWithinTheirToleranceOfTorch(Fixtures.Case c) throws IOException {
        try (Rnn rnn = Rnn.create(device, c.weights(), WeightsDtype.F16)) {
            assertClose(expected(c), rnn.forward(c.input()), HALF_TOL, HALF_TOL, c.name());
        }
    }

    private static final double HALF_TOL = 2e-3;

    private static void check(Fixtures.Case c, RnnOutput y) throws IOException {
        assertClose(expected(c), y, Assertions2.ATOL, Assertions2.RTOL, c.name());
    }

    /** PyTorch's out, h_n and (for an LSTM only) c_n. */
    private static RnnOutput expected(Fixtures.Case c) throws IOException {
        return new RnnOutput(c.output(), c.hn(), c.cn());
    }
}
