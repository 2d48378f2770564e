package io.clrnn;

import static io.clrnn.Assertions2.assertClose;

import io.clrnn.device.Device;
import io.clrnn.model.ReferenceRnn;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every case recorded from real torch.nn.RNN, on the OpenCL device and on the Java reference. */
class GoldenTest {
    private static Device device;

    @BeforeAll
    static void open() {
        device = TestDevice.open();
    }

    @AfterAll
    static void close() {
        device.close();
    }

    static List<Fixtures.Case> cases() {
        return Fixtures.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void openClMatchesTorch(Fixtures.Case c) throws IOException {
        try (Rnn rnn = Rnn.create(device, c.weights())) {
            RnnOutput y = rnn.forward(c.input(), c.h0());
            assertClose(c.output(), y.output(), c.name() + " out");
            assertClose(c.hn(), y.hidden(), c.name() + " h_n");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void referenceMatchesTorch(Fixtures.Case c) throws IOException {
        RnnOutput y = ReferenceRnn.forward(c.weights(), c.input(), c.h0());
        assertClose(c.output(), y.output(), c.name() + " out");
        assertClose(c.hn(), y.hidden(), c.name() + " h_n");
    }
}
