package io.clrnn.onnx;

import static io.clrnn.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.clrnn.base.Tensor;
import io.clrnn.TestDevice;
import io.clrnn.device.Device;
import java.io.IOException;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ONNX's own node tests through the Java API: RNN, GRU and LSTM, and the operators around the recurrent core
 * (Gemm, MatMul, Softmax, LayerNormalization, the elementwise, reduction and glue operators...). Every output ONNX
 * recorded, at atol 1e-5, rtol 1e-4; integer outputs exactly.
 */
class OnnxBackendNodeTest {
    private static final Device device = TestDevice.shared();

    static Stream<OnnxTestData.Case> cases() {
        return Stream.concat(OnnxTestData.all(), OnnxTestData.OPERATOR_CASES.stream().map(OnnxTestData::load));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesOnnxExpectedOutputs(OnnxTestData.Case c) throws IOException {
        OnnxModel model = OnnxModel.load(c.model());
        try (OnnxSession session = model.open(device)) {
            Map<String, Tensor> out = session.run(c.floatInputs(), c.intInputs());
            assertEquals(c.outputs().size(), out.size(), "outputs");
            for (OnnxTestData.Named expected : c.outputs()) {
                Tensor got = out.get(expected.name());
                String what = c.name() + " " + expected.name();
                if (expected.isInt()) {
                    assertArrayEquals(expected.ints().shape(), got.shape(), what + " shape");
                    for (int i = 0; i < got.numel(); i++) {
                        assertEquals(expected.ints().data()[i], (long) got.data()[i], what + " element " + i);
                    }
                } else {
                    assertClose(expected.floats(), got, what);
                }
            }
        }
    }
}
