package io.clrnn.engine;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clrnn.base.RnnInput;
import io.clrnn.base.RnnOutput;
import io.clrnn.TestDevice;
import io.clrnn.base.Tensor;
import io.clrnn.device.Device;
import io.clrnn.model.CellType;
import io.clrnn.model.Forward;
import io.clrnn.model.ReferenceRnn;
import io.clrnn.model.RnnConfig;
import io.clrnn.model.RnnWeights;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * One {@link Forward} goes through the engine's one entrance and through the plain Java reference alike, in any of
 * its layouts: an ONNX node's forward in layout 0 or 1 with empty sequences, read and written through its strides.
 */
class ForwardEntranceTest {
    private final Device device = TestDevice.shared();

    @ParameterizedTest(name = "batch-major {0}")
    @ValueSource(booleans = {false, true})
    void anOnnxForwardGivesTheReferencesResultsInItsOwnLayout(boolean batchMajor) {
        RnnConfig config = RnnConfig.of(CellType.GRU, 6, 5).withBidirectional(true);
        RnnWeights weights = RnnWeights.init(config, 3);
        int seq = 4;
        int batch = 3;
        int[] x = batchMajor ? new int[] {batch, seq, 6} : new int[] {seq, batch, 6};
        int[] states = batchMajor ? new int[] {batch, 2, 5} : new int[] {2, batch, 5};
        Forward f = Forward.ofOnnx(config, batchMajor, seq, batch, Tensor.randn(1, x), Tensor.randn(2, states),
                null, new int[] {2, 0, 4});
        RnnOutput expected = ReferenceRnn.forward(weights, f);
        try (RnnEngine engine = new RnnEngine(device, weights)) {
            RnnOutput actual = engine.forward(f, null);
            assertClose(expected, actual, io.clrnn.Assertions2.REF_ATOL, io.clrnn.Assertions2.REF_RTOL, "engine and reference");
        }
        int[] y = batchMajor ? new int[] {batch, seq, 2, 5} : new int[] {seq, 2, batch, 5};
        assertEquals(Tensor.format(y), Tensor.format(expected.output().shape()), "Y in the node's layout");
        for (int j = 0; j < 10; j++) { // the empty sequence: zeros, outputs and final states, as ONNX Runtime gives
            int b = 1;
            int d = j / 5;
            int u = j % 5;
            assertEquals(0f, expected.hidden().data()[batchMajor ? (b * 2 + d) * 5 + u : (d * batch + b) * 5 + u]);
        }
        // PyTorch's time-major forward is the layout-0 one with Y's directions side by side: the same h_n
        if (!batchMajor) {
            Forward full = Forward.ofOnnx(config, false, seq, batch, f.x(), f.h0(), null, null);
            RnnOutput torch = ReferenceRnn.forward(weights, RnnInput.of(f.x()).h0(f.h0()));
            assertClose(torch.hidden(), ReferenceRnn.forward(weights, full).hidden(), 0, 0, "h_n both ways");
        }
    }

    @Test
    void aForwardRefusesWhatItsCallerShouldHaveChecked() {
        RnnConfig lstm = RnnConfig.of(CellType.LSTM, 3, 2);
        Tensor x = Tensor.zeros(4, 2, 3);
        assertThrows(IllegalArgumentException.class,
                () -> Forward.ofOnnx(lstm, false, 4, 2, Tensor.zeros(2, 4, 3), null, null, null), "X's shape");
        assertThrows(IllegalArgumentException.class,
                () -> Forward.ofOnnx(lstm, false, 4, 2, x, Tensor.zeros(1, 2, 3), null, null), "h_0's width");
        assertThrows(IllegalArgumentException.class,
                () -> Forward.ofOnnx(lstm, false, 4, 2, x, null, null, new int[] {5, 1}), "a length past seq");
        assertThrows(IllegalArgumentException.class,
                () -> Forward.ofOnnx(lstm.withLayers(2), false, 4, 2, x, null, null, null), "an ONNX node has one layer");
        assertThrows(IllegalArgumentException.class,
                () -> Forward.onDevice(RnnConfig.of(3, 2), 4, 2, null, Tensor.zeros(1, 2, 2)), "c_0 for an RNN");
        Forward f = Forward.onDevice(lstm, 4, 2, null, null);
        assertTrue(f.fullLength() && !f.batchMajor() && f.x() == null);
        try (RnnEngine engine = new RnnEngine(device, RnnWeights.init(lstm, 1))) {
            assertThrows(IllegalArgumentException.class, () -> engine.forward(Forward.ofOnnx(lstm, true, 4, 2,
                    Tensor.zeros(2, 4, 3), null, null, null), new DeviceIo(null, 0, null, 0, false, null, 0, null, 0,
                    null, Device.Lane.THROUGHPUT), null), "from device buffers: time-major only");
            assertThrows(IllegalArgumentException.class, () -> engine.forward(
                    Forward.of(RnnConfig.of(CellType.LSTM, 3, 3), RnnInput.of(x)), null), "another module's forward");
            assertThrows(IllegalArgumentException.class, () -> engine.forward(f, null), "X on the device, results to "
                    + "the host");
        }
    }
}
